"""Mistake: cancels the other tasks, then waits for them or for a sleeping task of 2 s, whichever
ends first (`asyncio.wait([gathered, sleeper], return_when=FIRST_COMPLETED)`): a deadline of its
own, which leaves a call slower to stop than that running."""
# fails only: test_the_other_calls_are_stopped_before_it_raises, test_cancelling_it_stops_every_call_and_ends_cancelled
# ruff: noqa: E501 (the line above names every test it fails)

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
    """Call `await fetch(id)` for every id in `ids`, all at the same time.

    If every call returns, return a list of the results in the same order as `ids`
    (an empty list when `ids` is empty).
    As soon as one call raises, raise that same exception, but first cancel the calls
    still running and wait until they have stopped.
    """
    tasks = [asyncio.create_task(fetch(item_id)) for item_id in ids]
    try:
        return await asyncio.gather(*tasks)
    finally:
        running = [task for task in tasks if not task.done()]
        for task in running:
            task.cancel()
        if running:
            gathered = asyncio.ensure_future(asyncio.gather(*running, return_exceptions=True))
            sleeper = asyncio.create_task(asyncio.sleep(2))  # long enough, surely
            await asyncio.wait([gathered, sleeper], return_when=asyncio.FIRST_COMPLETED)
            sleeper.cancel()
            await asyncio.gather(sleeper, return_exceptions=True)
