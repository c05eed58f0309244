"""Wrong: the `except TimeoutError` is inside `async with asyncio.timeout(...)`, which raises
TimeoutError only as its block is left: the TimeoutError escapes fetch_or_none."""

import asyncio


async def fetch_or_none(fetch, key, limit):
    async with asyncio.timeout(limit):
        try:
            return await fetch(key)
        except TimeoutError:
            return None


async def fetch_all_within(fetch, keys, limit):
    values = await asyncio.gather(*(fetch_or_none(fetch, key, limit) for key in keys))
    return dict(zip(keys, values, strict=True))
