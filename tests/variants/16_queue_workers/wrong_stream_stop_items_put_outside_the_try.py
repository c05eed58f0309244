"""Wrong: one stop item per worker after the last item, but the `try` that stops the workers on a
cancel ends with the source: cancelled once the source has ended, while it puts the stop items on a
full queue, process_stream leaves its workers running (the correct variant ok_sentinels did this
until a cancel once the source had ended was tried)."""
# fails only: test_a_cancelled_process_stream_stops_its_workers[once_the_source_ended]

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
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    for _ in tasks:
        await queue.put(STOP)
    await asyncio.gather(*tasks)
    return results, failures
