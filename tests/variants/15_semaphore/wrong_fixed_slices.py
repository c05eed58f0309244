"""Mistake: `limit` workers, each given a fixed slice of the ids up front: one slow slice holds the rest."""

import asyncio
from urllib.parse import urlsplit


async def fetch_all_limited(fetch, ids, limit):
    results = [None] * len(ids)

    async def worker(first):
        for index in range(first, len(ids), limit):
            results[index] = await fetch(ids[index])

    await asyncio.gather(*(worker(first) for first in range(limit)))
    return results


async def fetch_per_host(fetch, urls, per_host):
    semaphores = {urlsplit(url).hostname: asyncio.Semaphore(per_host) for url in urls}

    async def fetch_one(url):
        async with semaphores[urlsplit(url).hostname]:
            return await fetch(url)

    return await asyncio.gather(*(fetch_one(url) for url in urls))
