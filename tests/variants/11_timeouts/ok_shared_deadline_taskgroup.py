"""Correct: one deadline for the batch (asyncio.timeout_at) inside each task of a TaskGroup."""

import asyncio


async def fetch_or_none(fetch, key, limit):
    try:
        async with asyncio.timeout(limit):
            value = await fetch(key)
    except TimeoutError:
        value = None
    return value


async def fetch_all_within(fetch, keys, limit):
    deadline = asyncio.get_running_loop().time() + limit

    async def one(key):
        try:
            async with asyncio.timeout_at(deadline):
                return await fetch(key)
        except TimeoutError:
            return None

    async with asyncio.TaskGroup() as group:
        tasks = {key: group.create_task(one(key)) for key in keys}
    return {key: task.result() for key, task in tasks.items()}
