"""Wrong: fetch_all_or_nothing, when stopped (an error, or a cancel from its caller), cancels its tasks
one by one, waiting for each to stop before cancelling the next: a second cancel during one of
those waits ends the cleanup there, and the tasks not reached yet are left running, never
cancelled (red team 13)."""
# fails only: test_cancelled_again_while_its_calls_stop_it_ends_cancelled_with_every_call_cancelled

import asyncio


# Task 1: keep the results, and the failures
async def fetch_all_settled(fetch, ids):
    """Call `await fetch(id)` for every id in `ids`, all at the same time.

    Return a tuple `(successes, failures)` of two dicts: `successes` maps each id whose
    call returned to the value it returned, and `failures` maps each id whose call
    raised to the exception object it raised. With no ids at all, both dicts are empty.
    """
    results = await asyncio.gather(*(fetch(item_id) for item_id in ids), return_exceptions=True)
    successes, failures = {}, {}
    for item_id, result in zip(ids, results, strict=True):
        if isinstance(result, Exception):
            failures[item_id] = result
        else:
            successes[item_id] = result
    return successes, failures


# Task 2: fail fast, and leave nothing running
async def fetch_all_or_nothing(fetch, ids):
    tasks = [asyncio.create_task(fetch(item_id)) for item_id in ids]
    if not tasks:
        return []
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        for task in tasks:
            if not task.done():
                task.cancel()
                await asyncio.wait([task])  # until this one has stopped
    for task in tasks:
        if not task.cancelled() and task.exception() is not None:
            raise task.exception()
    return [task.result() for task in tasks]
