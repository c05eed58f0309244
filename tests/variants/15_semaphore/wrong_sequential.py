"""Mistake: one call after another: safe, and as slow as it gets."""


async def fetch_all_limited(fetch, ids, limit):
    return [await fetch(item_id) for item_id in ids]


async def fetch_per_host(fetch, urls, per_host):
    return [await fetch(url) for url in urls]
