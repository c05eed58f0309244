"""Mistake: batches of `limit`, each gathered in turn: every batch waits for its slowest call."""

import asyncio
from urllib.parse import urlsplit


async def fetch_all_limited(fetch, ids, limit):
    results = []
    for start in range(0, len(ids), limit):
        results += await asyncio.gather(*(fetch(item_id) for item_id in ids[start : start + limit]))
    return results


async def fetch_per_host(fetch, urls, per_host):
    semaphores = {urlsplit(url).hostname: asyncio.Semaphore(per_host) for url in urls}

    async def fetch_one(url):
        async with semaphores[urlsplit(url).hostname]:
            return await fetch(url)

    return await asyncio.gather(*(fetch_one(url) for url in urls))
