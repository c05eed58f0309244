"""Wrong: catches its caller's cancellation and returns an empty list, as if the call had succeeded."""
# fails only: test_a_cancelled_call_ends_cancelled

import asyncio

import aiohttp


async def fetch_json(session, url):
    async with session.get(url) as response:
        response.raise_for_status()
        return await response.json()


async def fetch_multiple_urls(urls):
    async with aiohttp.ClientSession() as session:
        try:
            return await asyncio.gather(*(fetch_json(session, url) for url in urls))
        except asyncio.CancelledError:
            return []
