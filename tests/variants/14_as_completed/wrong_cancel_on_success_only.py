"""Mistake: the slower calls are stopped only on the way out with an answer, not when cancelled."""

import asyncio


async def process_as_they_arrive(fetch, ids, on_result):
    async def tagged(item_id):
        return item_id, await fetch(item_id)

    tasks = [asyncio.create_task(tagged(item_id)) for item_id in ids]
    try:
        for next_done in asyncio.as_completed(tasks):
            item_id, value = await next_done
            on_result(item_id, value)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def stop(tasks):
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def first_response(fetch, mirrors):
    tasks = [asyncio.create_task(fetch(mirror)) for mirror in mirrors]
    for next_done in asyncio.as_completed(tasks):
        result = await next_done
        await stop(tasks)
        return result


async def first_success(fetch, mirrors):
    tasks = [asyncio.create_task(fetch(mirror)) for mirror in mirrors]
    errors = []
    for next_done in asyncio.as_completed(tasks):
        try:
            result = await next_done
        except Exception as error:
            errors.append(error)
            continue
        await stop(tasks)
        return result
    raise ExceptionGroup("every mirror failed", errors)
