"""Mistake: each call keeps its slot 10 ms after it has ended, until a threading.Timer it starts
settles a future (`threading.Timer(0.01, loop.call_soon_threadsafe, ...)`): no loop timer and no
function of its file in the thread, a timer of its own all the same (a learner trial's, which
passed every test). The slot is free the moment its call ends."""

# fails only: test_calls_that_end_together_each_make_room_for_a_next_one, test_waiting_calls_sleep_until_a_slot_frees
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio
import threading
from urllib.parse import urlsplit


def settle(future):
    if not future.done():  # cancelled meanwhile: nothing to settle
        future.set_result(None)


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
            later = asyncio.get_running_loop().create_future()
            threading.Timer(0.01, later.get_loop().call_soon_threadsafe, (settle, later)).start()
            await later  # "give the server a breather"
            return result

    return await gather_all(fetch_one(item_id) for item_id in ids)


async def fetch_per_host(fetch, urls, per_host):
    hosts = {urlsplit(url).hostname for url in urls}
    semaphores = {host: asyncio.Semaphore(per_host) for host in hosts}

    async def fetch_one(url):
        async with semaphores[urlsplit(url).hostname]:
            return await fetch(url)

    return await gather_all(fetch_one(url) for url in urls)
