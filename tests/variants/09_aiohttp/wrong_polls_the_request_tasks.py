"""Wrong: polls its request tasks every 10 ms (`while not all(t.done() ...): await asyncio.sleep(0.01)`)
instead of awaiting them: the requests run at the same time, but the code wakes again and again
while they wait for their replies."""
# fails only: test_every_url_is_fetched_at_the_same_time[many_urls], test_every_url_is_fetched_at_the_same_time[two_urls]
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio

import aiohttp


async def fetch_json(session, url):
    async with session.get(url) as response:
        response.raise_for_status()
        return await response.json()


async def fetch_multiple_urls(urls):
    async with aiohttp.ClientSession() as session:
        tasks = [asyncio.create_task(fetch_json(session, url)) for url in urls]
        try:
            while not all(t.done() for t in tasks):
                await asyncio.sleep(0.01)
            return [t.result() for t in tasks]
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
