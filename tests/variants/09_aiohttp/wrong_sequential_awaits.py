"""Awaits each request before starting the next, so the URLs are fetched one after another."""

import aiohttp


async def fetch_json(session, url):
    async with session.get(url) as response:
        response.raise_for_status()
        return await response.json()


async def fetch_multiple_urls(urls):
    async with aiohttp.ClientSession() as session:
        return [await fetch_json(session, url) for url in urls]
