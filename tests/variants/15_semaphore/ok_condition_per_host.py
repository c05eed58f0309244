"""Correct: an asyncio.Condition per host guards a count of running calls (fetch_per_host)."""

import asyncio
from collections import Counter
from urllib.parse import urlsplit


async def fetch_all_limited(fetch, ids, limit):
    semaphore = asyncio.Semaphore(limit)

    async def one(item_id):
        async with semaphore:
            return await fetch(item_id)

    return [*await asyncio.gather(*map(one, ids))]


async def fetch_per_host(fetch, urls, per_host):
    cond = asyncio.Condition()
    running = Counter()

    async def one(url):
        host = urlsplit(url).hostname
        async with cond:
            await cond.wait_for(lambda: running[host] < per_host)
            running[host] += 1
        try:
            return await fetch(url)
        finally:
            async with cond:
                running[host] -= 1
                cond.notify_all()

    return list(await asyncio.gather(*(one(u) for u in urls)))
