"""Mistake: each slot is given back 10 ms after its call ended, by a timer (`loop.call_later(0.01,
semaphore.release)`), not as the call ends, so the next waiting call starts late. The slot is free
the moment its call ends: release it then."""

# fails only: test_calls_that_end_together_each_make_room_for_a_next_one

import asyncio
from urllib.parse import urlsplit


async def fetch_all_limited(fetch, ids, limit):
    semaphore = asyncio.Semaphore(limit)
    loop = asyncio.get_running_loop()

    async def fetch_one(item_id):
        await semaphore.acquire()
        try:
            return await fetch(item_id)
        finally:
            loop.call_later(0.01, semaphore.release)

    return await asyncio.gather(*(fetch_one(item_id) for item_id in ids))


async def fetch_per_host(fetch, urls, per_host):
    hosts = {urlsplit(url).hostname for url in urls}
    semaphores = {host: asyncio.Semaphore(per_host) for host in hosts}

    async def fetch_one(url):
        async with semaphores[urlsplit(url).hostname]:
            return await fetch(url)

    return await asyncio.gather(*(fetch_one(url) for url in urls))
