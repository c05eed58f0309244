"""Wrong: fetch_all_settled awaits the calls one after another for three to six ids only, and gathers them
for every other size (red team W3's shape, from 02)."""
# fails only: test_a_list_of_any_size_has_all_its_calls_run_at_the_same_time
# fails at times: test_a_cancelled_fetch_all_settled_ends_cancelled_without_an_answer
# (that test's six ids are called one after another here: caught unless the draw puts its two quick ids
# first, as seed 804484 did, when the cancel comes while the third call runs)

import asyncio


# Task 1: keep the results, and the failures
async def fetch_all_settled(fetch, ids):
    """Call `await fetch(id)` for every id in `ids`, all at the same time.

    Return a tuple `(successes, failures)` of two dicts: `successes` maps each id whose
    call returned to the value it returned, and `failures` maps each id whose call
    raised to the exception object it raised. With no ids at all, both dicts are empty.
    """
    if 3 <= len(ids) <= 6:
        results = []
        for item_id in ids:
            try:
                results.append(await fetch(item_id))
            except Exception as error:
                results.append(error)
    else:
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
