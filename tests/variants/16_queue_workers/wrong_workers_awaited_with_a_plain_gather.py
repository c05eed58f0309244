"""Wrong: the stop items are right, but process_all waits for its workers with a plain
`await asyncio.gather(*tasks)`, not in a `finally:`: it ends at the first worker that raises or
stops cancelled, with the others still running (an error of handle, or a cancel from the caller)."""
# fails only: test_an_error_of_handle_reaches_the_caller_once_the_workers_stopped, test_a_cancelled_process_all_stops_its_workers
# ruff: noqa: E501

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
    await asyncio.gather(*tasks)
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
