"""Wrong: starts every call at once, then awaits the tasks in the order of the ids, so a call that
fails early waits behind one earlier in the list, and a later failure's error is the one raised.
No exact set of failing tests: test_the_first_error_wins fails on every run, and the tests where
one call fails fail too when that call is not first in the list (as the seed places it)."""

import asyncio


async def fetch_all_settled(fetch, ids):
    tasks = [(item_id, asyncio.create_task(fetch(item_id))) for item_id in ids]
    successes, failures = {}, {}
    for item_id, task in tasks:
        try:
            successes[item_id] = await task
        except Exception as error:
            failures[item_id] = error
    return successes, failures


async def fetch_all_or_nothing(fetch, ids):
    tasks = [asyncio.create_task(fetch(item_id)) for item_id in ids]
    try:
        return [await task for task in tasks]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
