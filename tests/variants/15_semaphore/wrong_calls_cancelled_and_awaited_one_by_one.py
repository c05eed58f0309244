"""Wrong: both functions start their calls as tasks and, in a `finally:` block, cancel each one
and wait for it (`asyncio.wait({task})`) before cancelling the next: cancelled a second time while
waiting for the first, they end with the other calls never cancelled, still running."""

# fails only: test_fetch_all_limited_cancelled_again_while_its_calls_stop_ends_cancelled, test_fetch_per_host_cancelled_again_while_its_calls_stop_ends_cancelled
# ruff: noqa: E501 (the line above names every test it fails)
import asyncio
from urllib.parse import urlsplit


async def _run_all(coros):
    tasks = [asyncio.create_task(c) for c in coros]
    try:
        if tasks:
            await asyncio.wait(tasks)
        return [t.result() for t in tasks]
    finally:
        for t in tasks:
            if not t.done():
                t.cancel()
                await asyncio.wait({t})


async def fetch_all_limited(fetch, ids, limit):
    semaphore = asyncio.Semaphore(limit)

    async def one(i):
        async with semaphore:
            return await fetch(i)

    return await _run_all([one(i) for i in ids])


async def fetch_per_host(fetch, urls, per_host):
    sems = {}

    async def one(url):
        host = urlsplit(url).hostname
        sem = sems.setdefault(host, asyncio.Semaphore(per_host))
        async with sem:
            return await fetch(url)

    return await _run_all([one(u) for u in urls])
