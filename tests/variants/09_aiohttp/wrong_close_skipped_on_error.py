"""Closes the session by hand after the requests, so a failing request skips the close."""

import asyncio

import aiohttp


async def fetch_json(session, url):
    async with session.get(url) as response:
        response.raise_for_status()
        return await response.json()


async def fetch_multiple_urls(urls):
    session = aiohttp.ClientSession()
    results = await asyncio.gather(*(fetch_json(session, url) for url in urls))
    await session.close()
    return results
