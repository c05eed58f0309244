"""Mistake: fetch_per_host keeps each call's host slot 10 ms after the call has ended, by a chain of
`loop.call_soon` callbacks that look at time.perf_counter() until then and settle a future (inside the
host's `async with`): no timer, no task, only a callback that runs again and again. The slot is free
the moment its call ends."""

# fails only: test_calls_to_a_host_that_end_together_each_make_room_for_a_next_one

import asyncio
import time
from urllib.parse import urlsplit


async def gather_all(coros):
    """gather that stops every other call when one fails (the breather keeps them running a while)."""
    tasks = [asyncio.ensure_future(coro) for coro in coros]
    try:
        return [await task for task in tasks]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def breather(seconds):
    """Settles once `seconds` have passed on the clock, looked at by a callback each loop turn."""
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    until = time.perf_counter() + seconds

    def look():
        if time.perf_counter() >= until:
            done.set_result(None)
        else:
            loop.call_soon(look)

    loop.call_soon(look)
    await done


async def fetch_all_limited(fetch, ids, limit):
    semaphore = asyncio.Semaphore(limit)

    async def fetch_one(item_id):
        async with semaphore:
            return await fetch(item_id)

    return await gather_all(fetch_one(item_id) for item_id in ids)


async def fetch_per_host(fetch, urls, per_host):
    hosts = {urlsplit(url).hostname for url in urls}
    semaphores = {host: asyncio.Semaphore(per_host) for host in hosts}

    async def fetch_one(url):
        async with semaphores[urlsplit(url).hostname]:
            result = await fetch(url)
            await breather(0.01)  # "give the host a breather"
            return result

    return await gather_all(fetch_one(url) for url in urls)
