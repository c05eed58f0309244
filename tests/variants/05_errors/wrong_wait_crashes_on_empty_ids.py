"""Wrong: asyncio.wait([]) raises ValueError, so an empty `ids` crashes both tasks instead of giving an
empty result."""
# fails only: test_no_ids_gives_two_empty_dicts, test_no_ids_gives_an_empty_list

import asyncio


async def fetch_all_settled(fetch, ids):
    tasks = {asyncio.create_task(fetch(i)): i for i in ids}
    await asyncio.wait(tasks)  # ValueError when ids is empty
    successes, failures = {}, {}
    for task, item_id in tasks.items():
        if task.exception() is not None:
            failures[item_id] = task.exception()
        else:
            successes[item_id] = task.result()
    return successes, failures


async def fetch_all_or_nothing(fetch, ids):
    tasks = [asyncio.create_task(fetch(i)) for i in ids]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)  # ValueError on []
        for t in done:
            if t.exception() is not None:
                raise t.exception()
        return [t.result() for t in tasks]
    finally:
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.wait(tasks)
