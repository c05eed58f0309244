"""Correct: a TaskGroup of calls, each under asyncio.timeout_at one shared deadline."""

import asyncio


# Task 1: one call, with a time limit
async def fetch_or_none(fetch, key, limit):
    """Return `await fetch(key)`, or None if the call takes longer than `limit` seconds.

    When the limit is up, the call must be stopped (cancelled, not left running) and
    fetch_or_none returns None at once. A call that answers sooner is returned as soon
    as it answers. An error raised by fetch is not a timeout: let it reach the caller.
    """
    try:
        async with asyncio.timeout(limit):
            return await fetch(key)
    except TimeoutError:
        return None


# Task 2: a batch with one deadline
async def fetch_all_within(fetch, keys, limit):
    deadline = asyncio.get_running_loop().time() + limit
    results = {}

    async def one(key):
        try:
            async with asyncio.timeout_at(deadline):
                results[key] = await fetch(key)
        except TimeoutError:
            results[key] = None

    async with asyncio.TaskGroup() as group:
        for key in keys:
            group.create_task(one(key))
    return {key: results[key] for key in keys}
