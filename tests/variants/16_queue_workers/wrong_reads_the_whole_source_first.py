"""Mistake: reads every item from the source before any worker starts, then hands the list to Task 1."""

import asyncio


async def process_all(items, handle, workers):
    queue = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)
    results, failures = {}, {}

    async def worker():
        while True:
            item = await queue.get()
            try:
                results[item] = await handle(item)
            except Exception as error:
                failures[item] = error
            finally:
                queue.task_done()

    tasks = [asyncio.create_task(worker()) for _ in range(workers)]
    await queue.join()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    process_all.failures = failures
    return results


async def process_stream(source, handle, workers, maxsize):
    items = [item async for item in source]
    results = await process_all(items, handle, workers)
    return results, process_all.failures
