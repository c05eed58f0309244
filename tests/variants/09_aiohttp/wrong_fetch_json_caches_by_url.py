"""Mistake: bodies cached by URL in the module: a URL asked again is not fetched, nor on the session given."""

import asyncio

import aiohttp

_cache = {}


async def fetch_json(session, url):
    if url in _cache:  # no need to ask twice
        return _cache[url]
    async with session.get(url) as response:
        response.raise_for_status()
        _cache[url] = await response.json()
        return _cache[url]


async def fetch_multiple_urls(urls):
    async with aiohttp.ClientSession() as session:
        return await asyncio.gather(*(fetch_json(session, url) for url in urls))
