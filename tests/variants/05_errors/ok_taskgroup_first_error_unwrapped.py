"""Correct: a TaskGroup; each call notes its error, and except* raises the first one noted, unwrapped."""

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
    first = []

    async def one(item_id):
        try:
            return await fetch(item_id)
        except Exception as error:
            first.append(error)
            raise

    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(item_id)) for item_id in ids]
    except* Exception:
        raise first[0] from None
    return [task.result() for task in tasks]
