"""Mistake: each host's URLs are fetched with the right limit, but one host after another."""

import asyncio
from urllib.parse import urlsplit


async def fetch_all_limited(fetch, ids, limit):
    semaphore = asyncio.Semaphore(limit)

    async def fetch_one(item_id):
        async with semaphore:
            return await fetch(item_id)

    return await asyncio.gather(*(fetch_one(item_id) for item_id in ids))


async def fetch_per_host(fetch, urls, per_host):
    by_host = {}
    for url in urls:
        by_host.setdefault(urlsplit(url).hostname, []).append(url)
    found = {}
    for group in by_host.values():
        found.update(zip(group, await fetch_all_limited(fetch, group, per_host), strict=True))
    return [found[url] for url in urls]
