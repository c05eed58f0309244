"""Correct without a semaphore: `limit` worker tasks take the next id from one shared iterator."""

import asyncio
from urllib.parse import urlsplit


async def fetch_all_limited(fetch, ids, limit):
    results = [None] * len(ids)
    todo = iter(enumerate(ids))

    async def worker():
        for index, item_id in todo:
            results[index] = await fetch(item_id)

    await asyncio.gather(*(worker() for _ in range(limit)))
    return results


async def fetch_per_host(fetch, urls, per_host):
    # Task 1's answer for each host's URLs, all hosts at once, then back in the order of urls (by
    # index: a URL asked twice may get two different answers).
    by_host = {}
    for index, url in enumerate(urls):
        by_host.setdefault(urlsplit(url).hostname, []).append(index)
    pages = await asyncio.gather(
        *(fetch_all_limited(fetch, [urls[i] for i in group], per_host) for group in by_host.values())
    )
    results = [None] * len(urls)
    for group, group_pages in zip(by_host.values(), pages, strict=True):
        for index, page in zip(group, group_pages, strict=True):
            results[index] = page
    return results
