"""Wrong: None is the stop item: an item that is None stops a worker, and is never handled. An item
may be any value a dict key can be (a learner trial's answer)."""
# fails only: test_none_and_other_falsy_items_and_results_are_kept, test_none_and_other_falsy_items_and_results_from_the_source_are_kept
# ruff: noqa: E501

import asyncio

STOP = None


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
            except Exception as error:
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
