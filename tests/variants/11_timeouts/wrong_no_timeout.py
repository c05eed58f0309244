"""Mistake: no timeout at all: every call is waited for, however long it takes."""

import asyncio


async def fetch_or_none(fetch, key, limit):
    return await fetch(key)


async def fetch_all_within(fetch, keys, limit):
    values = await asyncio.gather(*(fetch(key) for key in keys))
    return dict(zip(keys, values, strict=True))
