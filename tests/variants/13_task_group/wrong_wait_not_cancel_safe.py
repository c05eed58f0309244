"""Mistake: a failing part stops the others, but cancelling load_page leaves its loaders running."""

import asyncio


async def fetch_all(fetch, ids):
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(fetch(item_id)) for item_id in ids]
    return [task.result() for task in tasks]


async def load_page(loaders, user_id):
    tasks = {name: asyncio.create_task(load(user_id)) for name, load in loaders.items()}
    done, pending = await asyncio.wait(tasks.values(), return_when=asyncio.FIRST_EXCEPTION)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for task in done:
        if task.exception() is not None:
            raise task.exception()
    return {name: task.result() for name, task in tasks.items()}


async def failure_report(fetch, ids):
    report = {"timeouts": [], "not_found": []}
    try:
        async with asyncio.TaskGroup() as group:
            for item_id in ids:
                group.create_task(fetch(item_id))
    except* TimeoutError as errors:
        report["timeouts"] = sorted(error.args[0] for error in errors.exceptions)
    except* KeyError as errors:
        report["not_found"] = sorted(error.args[0] for error in errors.exceptions)
    return report
