"""Mistake: asyncio.wait with a timeout stops waiting, but the slow calls are never cancelled."""

import asyncio


async def fetch_or_none(fetch, key, limit):
    task = asyncio.create_task(fetch(key))
    done, _ = await asyncio.wait({task}, timeout=limit)
    return task.result() if task in done else None


async def fetch_all_within(fetch, keys, limit):
    if not keys:
        return {}
    tasks = {key: asyncio.create_task(fetch(key)) for key in keys}
    done, _ = await asyncio.wait(tasks.values(), timeout=limit)
    return {key: task.result() if task in done else None for key, task in tasks.items()}
