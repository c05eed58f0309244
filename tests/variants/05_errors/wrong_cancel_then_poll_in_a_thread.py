"""Mistake: cancels the other tasks, then checks from a thread (`asyncio.to_thread`) every 10 ms
whether they are done, for at most 2 s: a poll, off the loop, and a deadline of its own."""
# fails only: test_the_other_calls_are_stopped_before_it_raises, test_cancelling_it_stops_every_call_and_ends_cancelled
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio
import time


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

            def until_stopped():  # in a thread of its own, off the event loop
                deadline = time.monotonic() + 2
                while not all(task.done() for task in running) and time.monotonic() < deadline:
                    time.sleep(0.01)

            await asyncio.to_thread(until_stopped)
