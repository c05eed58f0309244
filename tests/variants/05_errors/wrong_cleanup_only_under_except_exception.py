"""Mistake: cleanup only under except Exception, trusting a cancel of the caller to the gather. A
cancelled gather cancels the calls, but it ends as soon as one of them has ended cancelled (a gather
without return_exceptions ends at its first call that ends cancelled), the others still stopping.
It used to pass only because every call the test cancelled stopped in the same loop step.
"""
# fails only: test_cancelling_it_stops_every_call_and_ends_cancelled, test_a_call_that_raises_a_baseexception_has_the_others_stopped_before_it_goes_on
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
    tasks = [asyncio.create_task(fetch(item_id)) for item_id in ids]
    try:
        return await asyncio.gather(*tasks)
    except Exception:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
