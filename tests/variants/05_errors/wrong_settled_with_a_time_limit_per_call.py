"""fetch_all_settled wraps each call in `asyncio.wait_for(fetch(id), 5)` (a learner trial's answer): a call
slower than that would be filed as a TimeoutError it never raised; the docstring gives no limit.
"""

# fails only: test_every_call_runs_at_the_same_time_even_when_some_fail[many_ids], test_every_call_runs_at_the_same_time_even_when_some_fail[two_ids]
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio


# Task 1: keep the results, and the failures
async def fetch_all_settled(fetch, ids):
    """Call `await fetch(id)` for every id in `ids`, all at the same time.

    Some calls raise an exception. Return a tuple `(successes, failures)` of two dicts:
    `successes` maps each id whose call returned to the value it returned, and
    `failures` maps each id whose call raised to the exception object it raised
    (the exception itself, not its message). With no ids at all, both dicts are empty.
    """
    results = await asyncio.gather(
        *(asyncio.wait_for(fetch(i), timeout=5) for i in ids), return_exceptions=True
    )
    successes, failures = {}, {}
    for i, r in zip(ids, results, strict=True):
        if isinstance(r, Exception):
            failures[i] = r
        else:
            successes[i] = r
    return successes, failures


# Task 2: fail fast, and leave nothing running
async def fetch_all_or_nothing(fetch, ids):
    """Call `await fetch(id)` for every id in `ids`, all at the same time.

    If every call returns, return a list of the results in the same order as `ids`
    (an empty list when `ids` is empty).
    As soon as one call raises, raise that same exception (an ExceptionGroup holding
    it is fine too), but first cancel the calls still running and wait until they
    have stopped, so that nothing is left running when your function ends.
    """
    tasks = [asyncio.create_task(fetch(i)) for i in ids]
    try:
        return await asyncio.gather(*tasks)
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
