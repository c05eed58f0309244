"""Wrong: None is the stop item: an item that is None stops a worker, and is never handled. An item
may be any value a dict key can be (a learner trial's answer)."""
# fails only: test_none_and_other_falsy_items_and_results_are_kept, test_none_and_other_falsy_items_and_results_from_the_source_are_kept
# ruff: noqa: E501

import asyncio

STOP = None


# Task 1: a crew of workers
async def process_all(items, handle, workers):
    """Handle every item in `items` with `await handle(item)`, using `workers` worker tasks fed by one queue.

    Return a dict that maps each item to what `handle` returned for it. Stop the workers
    before returning. If `handle` raises, its error (the first, if several) goes on to your
    caller once the workers have stopped.
    """
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


# Task 2: items that arrive over time
async def process_stream(source, handle, workers, maxsize):
    """Handle every item that the async iterator `source` yields, with `workers` workers.

    Return `(results, failures)`: what handle returned for each item, and the exception it
    raised for each item that failed. Stop the workers before returning, and also when the
    source itself raises: then its error goes on to the caller, with no worker left running.
    """
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
