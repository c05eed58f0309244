"""Mistake: asyncio.wait(FIRST_EXCEPTION), then the others are cancelled but not awaited before raising."""

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
    for task in done:
        if task.exception() is not None:
            raise task.exception()
    return {name: task.result() for name, task in tasks.items()}


async def failure_report(fetch, ids):
    tasks = [asyncio.create_task(fetch(item_id)) for item_id in ids]
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    for task in pending:
        task.cancel()
    errors = [task.exception() for task in done if task.exception() is not None]
    others = [error for error in errors if not isinstance(error, TimeoutError | KeyError)]
    if others:
        raise ExceptionGroup("failures nobody handles here", others)
    return {
        "timeouts": sorted(e.args[0] for e in errors if isinstance(e, TimeoutError)),
        "not_found": sorted(e.args[0] for e in errors if isinstance(e, KeyError)),
    }
