"""Correct: asyncio.wait_for per call, and a list of tasks awaited one by one (stopped in a finally:)."""

import asyncio


async def fetch_or_none(fetch, key, limit):
    try:
        return await asyncio.wait_for(fetch(key), timeout=limit)
    except TimeoutError:
        return None


async def fetch_all_within(fetch, keys, limit):
    tasks = {key: asyncio.create_task(fetch_or_none(fetch, key, limit)) for key in keys}
    try:
        return {key: await task for key, task in tasks.items()}
    finally:
        # Cancelled by the caller (or an error): the tasks not awaited yet are stopped too.
        for task in tasks.values():
            task.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)
