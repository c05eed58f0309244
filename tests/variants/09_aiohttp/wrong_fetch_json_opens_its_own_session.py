"""fetch_json ignores the session it is given and opens a ClientSession of its own."""

import asyncio

import aiohttp


async def fetch_json(session, url):
    async with aiohttp.ClientSession() as own_session, own_session.get(url) as response:
        response.raise_for_status()
        return await response.json()


async def fetch_multiple_urls(urls):
    async with aiohttp.ClientSession() as session:
        return await asyncio.gather(*(fetch_json(session, url) for url in urls))
