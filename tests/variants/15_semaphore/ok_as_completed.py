"""Correct: one shared semaphore, results gathered with as_completed and put back in order; a
cancel stops every task it made (a `finally:` that cancels them and waits)."""

import asyncio
from urllib.parse import urlsplit


async def limited(semaphore, index, call):
    async with semaphore:
        return index, await call()


async def in_order(calls):
    # Tasks of its own, not bare coroutines: as_completed would wrap those in tasks nothing can
    # cancel, left running when the caller cancels this function.
    tasks = [asyncio.create_task(call) for call in calls]
    results = [None] * len(calls)
    try:
        for next_done in asyncio.as_completed(tasks):
            index, value = await next_done
            results[index] = value
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return results


async def fetch_all_limited(fetch, ids, limit):
    semaphore = asyncio.Semaphore(limit)
    return await in_order([limited(semaphore, i, lambda i=i: fetch(ids[i])) for i in range(len(ids))])


async def fetch_per_host(fetch, urls, per_host):
    hosts = {urlsplit(url).hostname: asyncio.Semaphore(per_host) for url in urls}
    return await in_order(
        [limited(hosts[urlsplit(url).hostname], i, lambda url=url: fetch(url)) for i, url in enumerate(urls)]
    )
