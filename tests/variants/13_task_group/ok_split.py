"""Correct: ExceptionGroup.split instead of except*, re-raising what is left."""

import asyncio


async def fetch_all(fetch, ids):
    tasks = []
    async with asyncio.TaskGroup() as group:
        for item_id in ids:
            tasks.append(group.create_task(fetch(item_id)))
    return [await task for task in tasks]


async def load_page(loaders, user_id):
    async with asyncio.TaskGroup() as group:
        tasks = [(name, group.create_task(load(user_id))) for name, load in loaders.items()]
    return {name: await task for name, task in tasks}


async def failure_report(fetch, ids):
    try:
        async with asyncio.TaskGroup() as group:
            for item_id in ids:
                group.create_task(fetch(item_id))
    except ExceptionGroup as errors:
        timeouts, rest = errors.split(TimeoutError)
        not_found, rest = rest.split(KeyError) if rest else (None, None)
        if rest:
            raise rest from None
        return {
            "timeouts": sorted(e.args[0] for e in (timeouts.exceptions if timeouts else ())),
            "not_found": sorted(e.args[0] for e in (not_found.exceptions if not_found else ())),
        }
    return {"timeouts": [], "not_found": []}
