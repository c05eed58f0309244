"""Wrong: fetch_all_settled catches its caller's cancel, cancels the calls still running, and returns
the dicts of what it has: the calls the cancel cut short are filed as successes, a CancelledError for
their value, and whoever cancelled it (a timeout, a task group) takes that for a real answer instead
of the cancel it asked for (red team rtA)."""
# fails only: test_a_cancelled_fetch_all_settled_ends_cancelled_without_an_answer

import asyncio


# Task 1: keep the results, and the failures
async def fetch_all_settled(fetch, ids):
    """Call `await fetch(id)` for every id in `ids`, all at the same time.

    Return a tuple `(successes, failures)` of two dicts: `successes` maps each id whose
    call returned to the value it returned, and `failures` maps each id whose call
    raised to the exception object it raised. With no ids at all, both dicts are empty.
    """
    tasks = [asyncio.create_task(fetch(item_id)) for item_id in ids]
    try:
        await asyncio.wait(tasks) if tasks else None
    except asyncio.CancelledError:
        for task in tasks:  # cut short: stop the rest, and report what we have
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    results = [
        task.exception() or task.result() if not task.cancelled() else asyncio.CancelledError()
        for task in tasks
    ]
    successes, failures = {}, {}
    for item_id, result in zip(ids, results, strict=True):
        if isinstance(result, Exception):
            failures[item_id] = result
        else:
            successes[item_id] = result
    return successes, failures


# Task 2: fail fast, and leave nothing running
async def fetch_all_or_nothing(fetch, ids):
    """Call `await fetch(id)` for every id in `ids`, all at the same time.

    If every call returns, return a list of the results in the same order as `ids`
    (an empty list when `ids` is empty).
    As soon as one call raises, raise that same exception, but first cancel the calls
    still running and wait until they have stopped.
    If the caller cancels fetch_all_or_nothing, first cancel the calls still running and
    wait until they have stopped, then let the cancel through, so that it ends cancelled.
    """
    tasks = [asyncio.create_task(fetch(item_id)) for item_id in ids]
    try:
        return await asyncio.gather(*tasks)
    finally:
        # After a success every task is done and this costs nothing; after a failure
        # it stops the calls that are still running before the error goes on up.
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
