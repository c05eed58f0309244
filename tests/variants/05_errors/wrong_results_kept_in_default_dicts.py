"""Wrong: successes and failures are default arguments, made once when `def` runs: every call adds
to the same two dicts, so a second call returns the first call's ids too (a learner trial's answer)."""
# fails only: test_each_call_returns_only_its_own_results, test_two_calls_at_once_run_every_fetch_together, test_a_list_of_any_size_has_all_its_calls_run_at_the_same_time
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio


# Task 1: keep the results, and the failures
async def fetch_all_settled(fetch, ids, successes={}, failures={}):  # noqa: B006
    """Call `await fetch(id)` for every id in `ids`, all at the same time.

    Return a tuple `(successes, failures)` of two dicts: `successes` maps each id whose
    call returned to the value it returned, and `failures` maps each id whose call
    raised to the exception object it raised.
    """
    results = await asyncio.gather(*(fetch(item_id) for item_id in ids), return_exceptions=True)
    for item_id, result in zip(ids, results, strict=True):
        if isinstance(result, Exception):
            failures[item_id] = result
        else:
            successes[item_id] = result
    return successes, failures


# Task 2: fail fast, and leave nothing running
async def fetch_all_or_nothing(fetch, ids):
    """Call `await fetch(id)` for every id in `ids`, all at the same time.

    If every call returns, return a list of the results in the same order as `ids`.
    As soon as one call raises, raise that same exception, but first cancel the calls
    still running and wait until they have stopped.
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
