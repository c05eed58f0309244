"""Correct: asyncio.wait_for per call, and a list of tasks awaited one by one."""

import asyncio


async def fetch_or_none(fetch, key, limit):
    try:
        return await asyncio.wait_for(fetch(key), timeout=limit)
    except TimeoutError:
        return None


async def fetch_all_within(fetch, keys, limit):
    tasks = {key: asyncio.create_task(fetch_or_none(fetch, key, limit)) for key in keys}
    return {key: await task for key, task in tasks.items()}
