"""Opens a new ClientSession for every URL instead of sharing one."""

# fails only: test_one_session_is_shared_by_every_request

import asyncio

import aiohttp


async def fetch_json(session, url):
    async with session.get(url) as response:
        response.raise_for_status()
        return await response.json()


async def fetch_one(url):
    async with aiohttp.ClientSession() as session:
        return await fetch_json(session, url)


async def fetch_multiple_urls(urls):
    return await asyncio.gather(*(fetch_one(url) for url in urls))
