"""Mistake: the semaphore is taken after the call has run, so nothing holds the calls back."""

import asyncio
from urllib.parse import urlsplit


async def fetch_all_limited(fetch, ids, limit):
    semaphore = asyncio.Semaphore(limit)

    async def fetch_one(item_id):
        result = await fetch(item_id)
        async with semaphore:
            pass
        return result

    return await asyncio.gather(*(fetch_one(item_id) for item_id in ids))


async def fetch_per_host(fetch, urls, per_host):
    semaphores = {urlsplit(url).hostname: asyncio.Semaphore(per_host) for url in urls}

    async def fetch_one(url):
        page = await fetch(url)
        async with semaphores[urlsplit(url).hostname]:
            pass
        return page

    return await asyncio.gather(*(fetch_one(url) for url in urls))
