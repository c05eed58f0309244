"""Wrong: fetch_all_within, when the limit is up or its caller cancels it, cancels its tasks one by
one, waiting for each to stop before cancelling the next: a second cancel during one of those
waits ends the cleanup there, and the tasks not reached yet are left running, never cancelled
(red team 13)."""
# fails only: test_cancelled_again_while_its_calls_stop_it_ends_cancelled_with_every_call_cancelled

import asyncio


# Task 1: one call, with a time limit
async def fetch_or_none(fetch, key, limit):
    """Return `await fetch(key)`, or None if the call takes longer than `limit` seconds.

    When the limit is up, the call must be stopped (cancelled, not left running) and
    fetch_or_none returns None at once. A call that answers sooner is returned as soon
    as it answers. An error raised by fetch is not a timeout: let it reach the caller,
    and a cancel from the caller is not one either: stop the call and let the cancel
    through, so that fetch_or_none ends cancelled.
    """
    try:
        async with asyncio.timeout(limit):
            return await fetch(key)
    except TimeoutError:
        return None


# Task 2: a batch with one deadline
async def fetch_all_within(fetch, keys, limit):
    tasks = [asyncio.create_task(fetch(key)) for key in keys]
    if not tasks:
        return {}
    try:
        await asyncio.wait(tasks, timeout=limit)
    finally:
        for task in tasks:
            if not task.done():
                task.cancel()
                await asyncio.wait([task])  # until this one has stopped
    result = {}
    for key, task in zip(keys, tasks, strict=True):
        if task.cancelled():
            result[key] = None
        else:
            result[key] = task.result()
    return result
