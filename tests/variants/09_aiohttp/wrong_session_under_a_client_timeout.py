"""One session with a connector and `aiohttp.ClientTimeout(total=10)`: a time limit the docstring does
not give (a server slower than 10 s makes fetch_multiple_urls raise TimeoutError)."""
# fails only: test_every_url_is_fetched_at_the_same_time[many_urls], test_every_url_is_fetched_at_the_same_time[two_urls]
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio

import aiohttp


async def fetch_json(session, url):
    async with session.get(url) as response:
        response.raise_for_status()
        return await response.json()


async def fetch_multiple_urls(urls):
    connector = aiohttp.TCPConnector(limit=100, limit_per_host=0, keepalive_timeout=30)
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        tasks = [asyncio.create_task(fetch_json(session, url)) for url in urls]
        try:
            return await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
