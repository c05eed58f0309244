"""Wrong: asyncio.wait(FIRST_EXCEPTION), then cancel and await the rest, but not in a `finally:`:
cancelled by its caller while it waits, it ends and leaves every call running (it was
ok_tasks_then_wait until the tests cancelled fetch_all_or_nothing from outside)."""
# fails only: test_cancelling_it_stops_every_call_and_ends_cancelled, test_cancelled_again_while_its_calls_stop_it_ends_cancelled_with_every_call_cancelled
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio


async def fetch_all_settled(fetch, ids):
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
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for task in tasks:
        if task in done and task.exception() is not None:
            raise task.exception()
    return [task.result() for task in tasks]
