"""Mistake: one semaphore of hosts x per_host for every URL: one host can take all the slots."""

import asyncio
from urllib.parse import urlsplit


async def fetch_all_limited(fetch, ids, limit):
    semaphore = asyncio.Semaphore(limit)

    async def fetch_one(item_id):
        async with semaphore:
            return await fetch(item_id)

    return await asyncio.gather(*(fetch_one(item_id) for item_id in ids))


async def fetch_per_host(fetch, urls, per_host):
    hosts = {urlsplit(url).hostname for url in urls}
    return await fetch_all_limited(fetch, urls, per_host * len(hosts))
