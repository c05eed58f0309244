"""Correct: one shared semaphore, results gathered with as_completed and put back in order."""

import asyncio
from urllib.parse import urlsplit


async def limited(semaphore, index, call):
    async with semaphore:
        return index, await call()


async def in_order(calls):
    results = [None] * len(calls)
    for next_done in asyncio.as_completed(calls):
        index, value = await next_done
        results[index] = value
    return results


async def fetch_all_limited(fetch, ids, limit):
    semaphore = asyncio.Semaphore(limit)
    return await in_order([limited(semaphore, i, lambda i=i: fetch(ids[i])) for i in range(len(ids))])


async def fetch_per_host(fetch, urls, per_host):
    hosts = {urlsplit(url).hostname: asyncio.Semaphore(per_host) for url in urls}
    return await in_order(
        [limited(hosts[urlsplit(url).hostname], i, lambda url=url: fetch(url)) for i, url in enumerate(urls)]
    )
