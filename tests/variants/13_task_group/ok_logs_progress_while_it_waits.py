"""Correct: inside the TaskGroup, a wait loop with a 1 s timeout logs what is still out; the
group still waits for every task and raises as the reference does.
"""

import asyncio
import logging

log = logging.getLogger(__name__)


async def _log_progress(tasks, what):
    pending = set(tasks)
    while pending:
        _, pending = await asyncio.wait(pending, timeout=1.0)
        if pending:
            log.info("%s: %d of %d calls still running", what, len(pending), len(tasks))


async def fetch_all(fetch, ids):
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(fetch(item_id)) for item_id in ids]
        await _log_progress(tasks, "fetch_all")
    return [task.result() for task in tasks]


async def load_page(loaders, user_id):
    async with asyncio.TaskGroup() as group:
        tasks = {name: group.create_task(load(user_id)) for name, load in loaders.items()}
        await _log_progress(list(tasks.values()), "load_page")
    return {name: task.result() for name, task in tasks.items()}


async def failure_report(fetch, ids):
    report = {"timeouts": [], "not_found": []}
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(fetch(item_id)) for item_id in ids]
            await _log_progress(tasks, "failure_report")
    except* TimeoutError as errors:
        report["timeouts"] = sorted(error.args[0] for error in errors.exceptions)
    except* KeyError as errors:
        report["not_found"] = sorted(error.args[0] for error in errors.exceptions)
    return report
