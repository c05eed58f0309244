"""Correct: asyncio.wait with a timeout, then (in a finally:) cancel the pending tasks and wait for them."""

import asyncio


async def fetch_or_none(fetch, key, limit):
    task = asyncio.create_task(fetch(key))
    try:
        done, _ = await asyncio.wait({task}, timeout=limit)
    finally:
        # At the limit, or cancelled by the caller during the wait: stop the call if it still runs.
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    return task.result() if task in done else None


async def fetch_all_within(fetch, keys, limit):
    if not keys:
        return {}
    tasks = [asyncio.create_task(fetch(key)) for key in keys]
    try:
        _, pending = await asyncio.wait(tasks, timeout=limit)
    finally:
        # At the limit, or cancelled by the caller during the wait: stop what still runs.
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return {key: None if task in pending else task.result() for key, task in zip(keys, tasks, strict=True)}
