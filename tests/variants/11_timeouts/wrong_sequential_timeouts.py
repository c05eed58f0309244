"""Mistake: each call gets its own timeout, but the calls run one after another."""

import asyncio


async def fetch_or_none(fetch, key, limit):
    try:
        async with asyncio.timeout(limit):
            return await fetch(key)
    except TimeoutError:
        return None


async def fetch_all_within(fetch, keys, limit):
    return {key: await fetch_or_none(fetch, key, limit) for key in keys}
