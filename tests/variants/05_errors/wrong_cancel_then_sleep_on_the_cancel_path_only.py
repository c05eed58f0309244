"""Wrong: when fetch_all_or_nothing is cancelled its calls are cancelled, then given a fixed 0.8 s (a guess) instead of being waited for; an error waits properly."""
# fails only: test_cancelling_it_stops_every_call_and_ends_cancelled
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
    except asyncio.CancelledError:
        for task in tasks:
            task.cancel()
        await asyncio.sleep(
            0.8
        )  # a guess, on the cancel path only: the calls may take longer to stop, or less
        raise
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
