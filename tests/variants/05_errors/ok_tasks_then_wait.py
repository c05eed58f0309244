"""Correct: start every task first, then await each; asyncio.wait(FIRST_EXCEPTION) for fail-fast."""

import asyncio


async def fetch_all_settled(fetch, ids):
    # A list, not a dict keyed by id: an id listed twice has two tasks, and each is awaited.
    tasks = [asyncio.create_task(fetch(item_id)) for item_id in ids]
    successes, failures = {}, {}
    for item_id, task in zip(ids, tasks, strict=True):
        try:
            successes[item_id] = await task
        except Exception as error:
            failures[item_id] = error
    return successes, failures


async def fetch_all_or_nothing(fetch, ids):
    tasks = [asyncio.create_task(fetch(item_id)) for item_id in ids]
    if not tasks:
        return []
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        # Also when its caller cancels it while it waits: the tasks stop before the CancelledError goes on.
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    for task in tasks:
        if task in done and task.exception() is not None:
            raise task.exception()
    return [task.result() for task in tasks]
