"""Mistake: a second request after an error status, so an error then a success returns a body."""

import asyncio

import aiohttp


async def fetch_json(session, url):
    for attempt in range(2):  # one retry, servers hiccup
        async with session.get(url) as response:
            if response.status >= 400 and attempt == 0:
                continue
            response.raise_for_status()
            return await response.json()


async def fetch_multiple_urls(urls):
    async with aiohttp.ClientSession() as session:
        return await asyncio.gather(*(fetch_json(session, url) for url in urls))
