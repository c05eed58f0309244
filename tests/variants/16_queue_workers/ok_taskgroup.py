"""Correct: the workers live in a TaskGroup; a producer task feeds the queue; cancel them after join."""

import asyncio


async def process_all(items, handle, workers):
    queue = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)
    results = {}

    async def worker():
        while True:
            item = await queue.get()
            try:
                results[item] = await handle(item)
            finally:
                queue.task_done()

    async with asyncio.TaskGroup() as group:
        crew = [group.create_task(worker()) for _ in range(workers)]
        await queue.join()
        for task in crew:
            task.cancel()
    return results


async def process_stream(source, handle, workers, maxsize):
    queue = asyncio.Queue(maxsize)
    results, failures = {}, {}

    async def produce():
        async for item in source:
            await queue.put(item)

    async def worker():
        while True:
            item = await queue.get()
            try:
                results[item] = await handle(item)
            except asyncio.CancelledError:
                raise  # the stop: not an error of handle's
            except BaseException as error:  # whatever handle raised
                failures[item] = error
            queue.task_done()

    async with asyncio.TaskGroup() as group:
        crew = [group.create_task(worker()) for _ in range(workers)]
        await group.create_task(produce())
        await queue.join()
        for task in crew:
            task.cancel()
    return results, failures
