"""Wrong: fetch_all_settled keeps its tasks in a dict keyed by id. An id listed twice makes two tasks,
the first lost from the dict: it is never awaited, and runs on after the function has returned (a
red team's finding: this was the ok variant ok_tasks_then_wait). Keep a list, zipped with ids.
"""
# fails only: test_an_id_listed_twice_leaves_no_call_of_fetch_all_settled_running

import asyncio


async def fetch_all_settled(fetch, ids):
    tasks = {item_id: asyncio.create_task(fetch(item_id)) for item_id in ids}
    successes, failures = {}, {}
    for item_id, task in tasks.items():
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
