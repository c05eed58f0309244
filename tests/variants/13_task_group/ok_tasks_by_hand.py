"""Correct without a TaskGroup: gather, and tasks cancelled by hand as in exercise 05."""

import asyncio


async def fetch_all(fetch, ids):
    tasks = [asyncio.create_task(fetch(item_id)) for item_id in ids]
    try:
        return list(await asyncio.gather(*tasks))
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def load_page(loaders, user_id):
    tasks = {name: asyncio.create_task(load(user_id)) for name, load in loaders.items()}
    try:
        results = await asyncio.gather(*tasks.values())
    finally:
        for task in tasks.values():
            task.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)
    return dict(zip(tasks, results, strict=True))


async def failure_report(fetch, ids):
    tasks = [asyncio.create_task(fetch(item_id)) for item_id in ids]
    try:
        if tasks:  # asyncio.wait refuses an empty set
            await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    errors = [task.exception() for task in tasks if not task.cancelled() and task.exception()]
    others = [error for error in errors if not isinstance(error, TimeoutError | KeyError)]
    if others:
        raise ExceptionGroup("failures nobody handles here", others)
    return {
        "timeouts": sorted(e.args[0] for e in errors if isinstance(e, TimeoutError)),
        "not_found": sorted(e.args[0] for e in errors if isinstance(e, KeyError)),
    }
