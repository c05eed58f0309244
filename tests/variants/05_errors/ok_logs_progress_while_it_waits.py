"""Correct: the calls awaited in a wait loop with a 1 s timeout that logs what is still out (a
progress log: the timeout only wakes it to log).
"""

import asyncio
import logging

log = logging.getLogger(__name__)


async def fetch_all_settled(fetch, ids):
    tasks = [asyncio.create_task(fetch(item_id)) for item_id in ids]
    try:
        pending = set(tasks)
        while pending:
            _, pending = await asyncio.wait(pending, timeout=1.0)
            if pending:
                log.info("fetch_all_settled: %d of %d calls still running", len(pending), len(tasks))
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    successes, failures = {}, {}
    for item_id, task in zip(ids, tasks, strict=True):
        error = task.exception()
        if error is not None:
            failures[item_id] = error
        else:
            successes[item_id] = task.result()
    return successes, failures


async def fetch_all_or_nothing(fetch, ids):
    tasks = [asyncio.create_task(fetch(item_id)) for item_id in ids]
    try:
        pending = set(tasks)
        while pending:
            done, pending = await asyncio.wait(pending, timeout=1.0, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                if not task.cancelled() and task.exception() is not None:
                    raise task.exception()
            if pending:
                log.info("fetch_all_or_nothing: %d of %d calls still running", len(pending), len(tasks))
        return [task.result() for task in tasks]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
