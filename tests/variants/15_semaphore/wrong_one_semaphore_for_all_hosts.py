"""Mistake: one semaphore of `per_host` shared by every host, so hosts wait for each other."""

import asyncio


async def fetch_all_limited(fetch, ids, limit):
    semaphore = asyncio.Semaphore(limit)

    async def fetch_one(item_id):
        async with semaphore:
            return await fetch(item_id)

    return await asyncio.gather(*(fetch_one(item_id) for item_id in ids))


async def fetch_per_host(fetch, urls, per_host):
    return await fetch_all_limited(fetch, urls, per_host)
