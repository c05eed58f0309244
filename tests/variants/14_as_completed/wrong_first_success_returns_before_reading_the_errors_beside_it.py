"""Mistake: first_success waits with asyncio.wait(FIRST_COMPLETED) in a loop and returns at the first
success it meets in the done set, before reading the errors of the tasks that failed in the same
turn and come after it in the set: their errors are lost ("exception was never retrieved"). Caught
as the set's order falls: 39 times in 40 a race, in the failed-calls test's three races, in both
modes (the probe lets the calls that end together end in one loop turn)."""

import asyncio


async def process_as_they_arrive(fetch, ids, on_result):
    pending = {asyncio.create_task(fetch(item_id)): item_id for item_id in ids}
    try:
        while pending:
            done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                on_result(pending.pop(task), task.result())
    finally:
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


async def first_response(fetch, mirrors):
    tasks = {asyncio.create_task(fetch(mirror)) for mirror in mirrors}
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        return done.pop().result()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks)


async def first_success(fetch, mirrors):
    pending = {asyncio.create_task(fetch(mirror)) for mirror in mirrors}
    errors = []
    try:
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            # Every error of this batch read first: returning at a success found before a failed
            # task in the same set would leave its error unread ("never retrieved").
            for task in done:  # the mistake: errors later in the set are never read
                if task.exception() is None:
                    return task.result()
                errors.append(task.exception())
    finally:
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    raise ExceptionGroup("every mirror failed", errors)
