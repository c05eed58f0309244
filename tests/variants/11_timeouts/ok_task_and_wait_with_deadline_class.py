"""Correct: one shared deadline object; each call a task given asyncio.wait(timeout=...), then
cancelled and awaited in a finally; a TaskGroup for the batch."""

import asyncio


class _Deadline:
    def __init__(self, limit):
        self.at = asyncio.get_running_loop().time() + limit

    def left(self):
        return max(0.0, self.at - asyncio.get_running_loop().time())


async def _within(fetch, key, deadline):
    task = asyncio.ensure_future(fetch(key))
    try:
        done, _ = await asyncio.wait({task}, timeout=deadline.left())
    finally:
        if not task.done():
            task.cancel()
            await asyncio.wait({task})
    return task.result() if task in done else None


async def fetch_or_none(fetch, key, limit):
    return await _within(fetch, key, _Deadline(limit))


async def fetch_all_within(fetch, keys, limit):
    deadline = _Deadline(limit)
    async with asyncio.TaskGroup() as tg:
        tasks = {key: tg.create_task(_within(fetch, key, deadline)) for key in keys}
    return {key: task.result() for key, task in tasks.items()}
