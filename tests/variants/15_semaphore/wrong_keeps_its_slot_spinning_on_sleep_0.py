"""Mistake: each call keeps its slot 10 ms after it has ended by spinning on `await asyncio.sleep(0)`
until the clock says so (inside `async with semaphore:`, after the call): no timer to hold back, so
only its wake-ups show it (a learner trial's, 20 ms). The slot is free the moment its call ends."""

# fails only: test_calls_that_end_together_each_make_room_for_a_next_one

import asyncio
from urllib.parse import urlsplit


async def gather_all(coros):
    """gather that stops every other call when one fails (the pause keeps them running a while)."""
    tasks = [asyncio.ensure_future(coro) for coro in coros]
    try:
        return [await task for task in tasks]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def fetch_all_limited(fetch, ids, limit):
    semaphore = asyncio.Semaphore(limit)

    async def fetch_one(item_id):
        async with semaphore:
            result = await fetch(item_id)
            loop = asyncio.get_running_loop()
            until = loop.time() + 0.01  # "give the server a breather", without a timer
            while loop.time() < until:
                await asyncio.sleep(0)
            return result

    return await gather_all(fetch_one(item_id) for item_id in ids)


async def fetch_per_host(fetch, urls, per_host):
    hosts = {urlsplit(url).hostname for url in urls}
    semaphores = {host: asyncio.Semaphore(per_host) for host in hosts}

    async def fetch_one(url):
        async with semaphores[urlsplit(url).hostname]:
            return await fetch(url)

    return await gather_all(fetch_one(url) for url in urls)
