"""Mistake: waits for the calls in the order they were started, not the order they finish."""

import asyncio


async def process_as_they_arrive(fetch, ids, on_result):
    tasks = [asyncio.create_task(fetch(item_id)) for item_id in ids]
    for item_id, task in zip(ids, tasks, strict=True):
        on_result(item_id, await task)


async def first_response(fetch, mirrors):
    tasks = [asyncio.create_task(fetch(mirror)) for mirror in mirrors]
    try:
        return await tasks[0]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def first_success(fetch, mirrors):
    tasks = [asyncio.create_task(fetch(mirror)) for mirror in mirrors]
    errors = []
    try:
        for task in tasks:
            try:
                return await task
            except Exception as error:
                errors.append(error)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    raise ExceptionGroup("every mirror failed", errors)
