"""Exercise 05: when some calls fail

Why
---
Ask a server for 10 things at once and sooner or later one of them fails: a timeout,
a missing item. By default `asyncio.gather` raises the first exception it sees, and
the results of the other 9 calls are gone. Worse, those 9 calls are *not* stopped:
they keep running in the background with nobody waiting for them. Pass
`return_exceptions=True` and gather raises nothing: each failed call's exception
object takes that call's place in the result list, next to the values of the
calls that worked, so one failure does not cost you the rest.

Example (save it as demo.py and run `python demo.py`)
-------
    import asyncio

    async def fetch(x):
        await asyncio.sleep(1)
        if x == 2:
            raise LookupError(f"no item {x}")
        return x * 10

    async def main():
        results = await asyncio.gather(fetch(1), fetch(2), fetch(3), return_exceptions=True)
        print(results)   # [10, LookupError('no item 2'), 30], after 1 s
        for x, result in zip((1, 2, 3), results):
            if isinstance(result, Exception):
                print(x, "failed:", result)

    asyncio.run(main())

The pitfall
-----------
    results = await asyncio.gather(fetch(1), fetch(2), fetch(3))   # LookupError: no item 2

Here gather raises and you get neither 10 nor 30. Catching the error around a loop of
awaits keeps every result, but the calls run one after another again (3 s, not 1 s).

Sometimes one failure does decide the answer, and the other calls are wasted work.
Then stop them: start each call as a task (`asyncio.create_task`), and when one fails,
`task.cancel()` the others and wait for them to finish stopping,
`await asyncio.gather(*tasks, return_exceptions=True)`, before you raise. A cancelled
task stops at its next `await`; until you wait for it, it has not stopped yet.

Your tasks
----------
Replace each `raise NotImplementedError` below. Check your work with
`python grade.py` (or `pytest tests/test_05_errors.py`).
"""


# Task 1: keep the results, and the failures
async def fetch_all_settled(fetch, ids):
    """Call `await fetch(id)` for every id in `ids`, all at the same time.

    Some calls raise an exception. Return a tuple `(successes, failures)` of two dicts:
    `successes` maps each id whose call returned to the value it returned, and
    `failures` maps each id whose call raised to the exception object it raised
    (the exception itself, not its message). With no ids at all, both dicts are empty.
    """
    raise NotImplementedError


# Task 2: fail fast, and leave nothing running
async def fetch_all_or_nothing(fetch, ids):
    """Call `await fetch(id)` for every id in `ids`, all at the same time.

    If every call returns, return a list of the results in the same order as `ids`
    (an empty list when `ids` is empty).
    As soon as one call raises, raise that same exception (an ExceptionGroup holding
    it is fine too), but first cancel the calls still running and wait until they
    have stopped, so that nothing is left running when your function ends.
    If the caller cancels fetch_all_or_nothing, first cancel the calls still running and
    wait until they have stopped, then let the cancel through, so that it ends cancelled.
    """
    raise NotImplementedError
