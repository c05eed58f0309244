"""Mistake: fetch_per_host keeps each host's slot 10 ms after the call has ended (a pause inside
`async with semaphore:`, after the call), so the host's next call starts late. The slot is free the
moment its call ends."""

# fails only: test_calls_to_a_host_that_end_together_each_make_room_for_a_next_one

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
            return await fetch(item_id)

    return await gather_all(fetch_one(item_id) for item_id in ids)


async def fetch_per_host(fetch, urls, per_host):
    hosts = {urlsplit(url).hostname for url in urls}
    semaphores = {host: asyncio.Semaphore(per_host) for host in hosts}

    async def fetch_one(url):
        async with semaphores[urlsplit(url).hostname]:
            result = await fetch(url)
            await asyncio.sleep(0.01)
            return result

    return await gather_all(fetch_one(url) for url in urls)
