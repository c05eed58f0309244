"""Correct: the batch waits with as_completed(timeout=limit), reads what is done, and a finally cancels
and gathers every task.
"""

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
    tasks = [asyncio.create_task(fetch(key)) for key in keys]
    try:
        try:
            for next_done in asyncio.as_completed(tasks, timeout=limit):
                await next_done
        except TimeoutError:
            pass
        return {key: task.result() if task.done() else None for key, task in zip(keys, tasks, strict=True)}
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
