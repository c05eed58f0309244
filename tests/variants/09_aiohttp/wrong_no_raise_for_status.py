"""Never checks the status, so an error reply is returned as if it were data."""

import asyncio

import aiohttp


async def fetch_json(session, url):
    async with session.get(url) as response:
        return await response.json()


async def fetch_multiple_urls(urls):
    async with aiohttp.ClientSession() as session:
        return await asyncio.gather(*(fetch_json(session, url) for url in urls))
