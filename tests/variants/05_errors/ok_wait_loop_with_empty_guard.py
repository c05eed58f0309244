"""Correct: tasks and asyncio.wait, with a guard for an empty `ids` (wait refuses an empty set), and
a wait loop with FIRST_EXCEPTION."""

import asyncio


async def fetch_all_settled(fetch, ids):
    tasks = {asyncio.create_task(fetch(i)): i for i in ids}
    successes, failures = {}, {}
    if tasks:
        await asyncio.wait(tasks)
    for task, item_id in tasks.items():
        if task.exception() is not None:
            failures[item_id] = task.exception()
        else:
            successes[item_id] = task.result()
    return successes, failures


async def fetch_all_or_nothing(fetch, ids):
    if not ids:
        return []
    tasks = [asyncio.ensure_future(fetch(i)) for i in ids]
    try:
        pending = set(tasks)
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_EXCEPTION)
            for t in done:
                if t.exception() is not None:
                    raise t.exception()
        return [t.result() for t in tasks]
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.wait(tasks)
