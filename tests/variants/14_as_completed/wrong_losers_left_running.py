"""Mistake: returns the first answer from as_completed and leaves the slower calls running."""

import asyncio


async def process_as_they_arrive(fetch, ids, on_result):
    async def tagged(item_id):
        return item_id, await fetch(item_id)

    tasks = [asyncio.create_task(tagged(item_id)) for item_id in ids]
    try:
        for next_done in asyncio.as_completed(tasks):
            on_result(*await next_done)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def first_response(fetch, mirrors):
    for next_done in asyncio.as_completed([fetch(mirror) for mirror in mirrors]):
        return await next_done


async def first_success(fetch, mirrors):
    errors = []
    for next_done in asyncio.as_completed([fetch(mirror) for mirror in mirrors]):
        try:
            return await next_done
        except Exception as error:
            errors.append(error)
    raise ExceptionGroup("every mirror failed", errors)
