"""Mistake: each task makes its own semaphore, so nothing is limited."""

import asyncio


async def fetch_all_limited(fetch, ids, limit):
    async def fetch_one(item_id):
        async with asyncio.Semaphore(limit):
            return await fetch(item_id)

    return await asyncio.gather(*(fetch_one(item_id) for item_id in ids))


async def fetch_per_host(fetch, urls, per_host):
    async def fetch_one(url):
        async with asyncio.Semaphore(per_host):
            return await fetch(url)

    return await asyncio.gather(*(fetch_one(url) for url in urls))
