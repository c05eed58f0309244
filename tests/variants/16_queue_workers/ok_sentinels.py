"""Correct: one stop item per worker after the last item, then wait for the workers to return.

The stop item is a fresh object(), which no caller can pass: None, 0 or "" may be items. A cancel
while it puts the stop items on a full queue stops the workers too (before, the `try` ended with
the source, and a cancel once the source had ended left them running)."""

import asyncio

STOP = object()


async def process_all(items, handle, workers):
    queue = asyncio.Queue()
    results = {}

    async def worker():
        while (item := await queue.get()) is not STOP:
            results[item] = await handle(item)

    tasks = [asyncio.create_task(worker()) for _ in range(workers)]
    for item in items:
        await queue.put(item)
    for _ in tasks:
        await queue.put(STOP)
    try:
        await asyncio.gather(*tasks)  # the first error of handle goes on from here
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return results


async def process_stream(source, handle, workers, maxsize):
    queue = asyncio.Queue(maxsize=maxsize)
    results, failures = {}, {}

    async def worker():
        while (item := await queue.get()) is not STOP:
            try:
                results[item] = await handle(item)
            except asyncio.CancelledError:
                raise  # the stop: not an error of handle's
            except BaseException as error:  # whatever handle raised
                failures[item] = error

    tasks = [asyncio.create_task(worker()) for _ in range(workers)]
    try:
        async for item in source:
            await queue.put(item)
        for _ in tasks:
            await queue.put(STOP)  # a cancel while it waits for room stops the workers too
        await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    return results, failures
