"""fetch_all_or_nothing checks its tasks every 10 ms in a loop (a learner trial's answer) instead of
awaiting them: it wakes again and again while nothing changes, and notices a failure late.
"""

# fails only: test_every_call_runs_at_the_same_time[many_ids], test_every_call_runs_at_the_same_time[two_ids]

import asyncio


# Task 1: keep the results, and the failures
async def fetch_all_settled(fetch, ids):
    """Call `await fetch(id)` for every id in `ids`, all at the same time.

    Some calls raise an exception. Return a tuple `(successes, failures)` of two dicts:
    `successes` maps each id whose call returned to the value it returned, and
    `failures` maps each id whose call raised to the exception object it raised
    (the exception itself, not its message). With no ids at all, both dicts are empty.
    """
    results = await asyncio.gather(*(fetch(i) for i in ids), return_exceptions=True)
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
        while True:
            for t in tasks:
                if t.done() and t.exception() is not None:
                    raise t.exception()
            if all(t.done() for t in tasks):
                return [t.result() for t in tasks]
            await asyncio.sleep(0.01)
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
