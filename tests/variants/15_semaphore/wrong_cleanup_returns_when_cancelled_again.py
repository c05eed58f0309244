"""Wrong: both functions start their calls as tasks, and when cancelled cancel them and wait for
them with `asyncio.gather(*tasks, return_exceptions=True)`; but a second cancel during that wait is
caught, and they return None: whoever cancelled them (a timeout, then its own caller) is told the
work is done."""

# fails only: test_fetch_all_limited_cancelled_again_while_its_calls_stop_ends_cancelled, test_fetch_per_host_cancelled_again_while_its_calls_stop_ends_cancelled
# ruff: noqa: E501 (the line above names every test it fails)
import asyncio
from urllib.parse import urlsplit


async def _run_all(coros):
    tasks = [asyncio.create_task(c) for c in coros]
    try:
        await asyncio.wait(tasks) if tasks else None
        return [t.result() for t in tasks]
    except BaseException:
        for t in tasks:
            t.cancel()
        try:
            await asyncio.gather(*tasks, return_exceptions=True)
        except asyncio.CancelledError:
            return None  # cancelled again while cleaning up: the calls are cancelled, that will do
        raise


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
