"""Mistake: `except Exception` turns every error from fetch into None, not only the timeout."""

import asyncio


async def fetch_or_none(fetch, key, limit):
    try:
        return await asyncio.wait_for(fetch(key), timeout=limit)
    except Exception:
        return None


async def fetch_all_within(fetch, keys, limit):
    values = await asyncio.gather(*(fetch_or_none(fetch, key, limit) for key in keys))
    return dict(zip(keys, values, strict=True))
