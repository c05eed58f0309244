"""Correct: asyncio.wait with a timeout, then cancel the pending tasks and wait for them to stop."""

import asyncio


async def fetch_or_none(fetch, key, limit):
    task = asyncio.create_task(fetch(key))
    done, _ = await asyncio.wait({task}, timeout=limit)
    if task in done:
        return task.result()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return None


async def fetch_all_within(fetch, keys, limit):
    if not keys:
        return {}
    tasks = {key: asyncio.create_task(fetch(key)) for key in keys}
    _, pending = await asyncio.wait(tasks.values(), timeout=limit)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    return {key: None if task in pending else task.result() for key, task in tasks.items()}
