"""Mistake: one timeout around the whole gather, so the fast answers are lost with the slow ones."""

import asyncio


async def fetch_or_none(fetch, key, limit):
    try:
        return await asyncio.wait_for(fetch(key), timeout=limit)
    except TimeoutError:
        return None


async def fetch_all_within(fetch, keys, limit):
    try:
        async with asyncio.timeout(limit):
            values = await asyncio.gather(*(fetch(key) for key in keys))
    except TimeoutError:
        return dict.fromkeys(keys)
    return dict(zip(keys, values, strict=True))
