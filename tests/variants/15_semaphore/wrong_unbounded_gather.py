"""Mistake: no limit at all, every call starts at once."""

import asyncio


async def fetch_all_limited(fetch, ids, limit):
    return await asyncio.gather(*(fetch(item_id) for item_id in ids))


async def fetch_per_host(fetch, urls, per_host):
    return await asyncio.gather(*(fetch(url) for url in urls))
