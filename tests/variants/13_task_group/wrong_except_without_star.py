"""Mistake: plain `except KeyError` around a TaskGroup, which never matches its ExceptionGroup."""

import asyncio


async def fetch_all(fetch, ids):
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(fetch(item_id)) for item_id in ids]
    return [task.result() for task in tasks]


async def load_page(loaders, user_id):
    async with asyncio.TaskGroup() as group:
        tasks = {name: group.create_task(load(user_id)) for name, load in loaders.items()}
    return {name: task.result() for name, task in tasks.items()}


async def failure_report(fetch, ids):
    report = {"timeouts": [], "not_found": []}
    try:
        async with asyncio.TaskGroup() as group:
            for item_id in ids:
                group.create_task(fetch(item_id))
    except TimeoutError as error:
        report["timeouts"].append(error.args[0])
    except KeyError as error:
        report["not_found"].append(error.args[0])
    return report
