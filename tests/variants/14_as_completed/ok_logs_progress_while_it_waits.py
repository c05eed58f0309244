"""Correct: first_response and first_success wait with `asyncio.wait(..., timeout=1,
return_when=FIRST_COMPLETED)` in a loop that logs while nothing has answered;
process_as_they_arrive warns after 5 s (`loop.call_later`), cancelled in finally.
"""

import asyncio
import logging

log = logging.getLogger(__name__)


async def _stop(tasks):
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def process_as_they_arrive(fetch, ids, on_result):
    async def tagged(item_id):
        return item_id, await fetch(item_id)

    handle = asyncio.get_running_loop().call_later(5, log.warning, "process_as_they_arrive: slow")
    tasks = [asyncio.create_task(tagged(item_id)) for item_id in ids]
    try:
        for next_done in asyncio.as_completed(tasks):
            item_id, value = await next_done
            on_result(item_id, value)
    finally:
        handle.cancel()
        await _stop(tasks)


async def first_response(fetch, mirrors):
    tasks = [asyncio.create_task(fetch(mirror)) for mirror in mirrors]
    try:
        done = set()
        while not done:
            done, _ = await asyncio.wait(tasks, timeout=1.0, return_when=asyncio.FIRST_COMPLETED)
            if not done:
                log.info("first_response: no mirror has answered yet")
        return done.pop().result()
    finally:
        await _stop(tasks)


async def first_success(fetch, mirrors):
    tasks = [asyncio.create_task(fetch(mirror)) for mirror in mirrors]
    errors = []
    try:
        pending = set(tasks)
        while pending:
            done, pending = await asyncio.wait(pending, timeout=1.0, return_when=asyncio.FIRST_COMPLETED)
            if not done:
                log.info("first_success: %d mirrors still out", len(pending))
            # several may be done at once: keep the mirrors' order among them
            for task in [t for t in tasks if t in done]:
                if task.exception() is None:
                    return task.result()
                errors.append(task.exception())
    finally:
        await _stop(tasks)
    raise ExceptionGroup("every mirror failed", errors)
