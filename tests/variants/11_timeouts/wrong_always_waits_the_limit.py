"""Mistake: sleeps for the whole limit, then looks at what finished: fast answers wait too."""

import asyncio


async def fetch_or_none(fetch, key, limit):
    task = asyncio.create_task(fetch(key))
    await asyncio.sleep(limit)
    if task.done():
        return task.result()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return None


async def fetch_all_within(fetch, keys, limit):
    tasks = {key: asyncio.create_task(fetch(key)) for key in keys}
    await asyncio.sleep(limit)
    for task in tasks.values():
        task.cancel()
    await asyncio.gather(*tasks.values(), return_exceptions=True)
    return {key: None if task.cancelled() else task.result() for key, task in tasks.items()}
