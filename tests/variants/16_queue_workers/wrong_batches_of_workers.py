"""Handles the items in batches of `workers` (a TaskGroup per batch) instead of a crew fed by one queue:
a slow item holds up its whole batch, and items wait while fewer than `workers` are handled.

A learner trial's answer: every test whose items all took about as long passed it.
"""

# fails only: test_a_slow_item_holds_up_only_the_worker_handling_it

import asyncio


# Task 1: a crew of workers
async def process_all(items, handle, workers):
    """Handle every item in `items` with `await handle(item)`, using `workers` worker tasks fed by one queue.

    Return a dict that maps each item to what `handle` returned for it. Each item is handled
    exactly once, and `workers` items are handled at the same time while enough are waiting.
    Before returning, stop the workers and wait until they have stopped: none may be left running.
    If `handle` raises, its error (the first, if several) goes on to your caller once the
    workers have stopped.
    """
    results = {}
    for start in range(0, len(items), workers):
        batch = items[start : start + workers]
        async with asyncio.TaskGroup() as tg:
            tasks = [tg.create_task(handle(item)) for item in batch]
        for item, task in zip(batch, tasks, strict=True):
            results[item] = task.result()
    return results


# Task 2: items that arrive over time
async def process_stream(source, handle, workers, maxsize):
    """Handle every item that the async iterator `source` yields, with `workers` workers.

    Items arrive over time (`async for item in source:`): put each one on a queue of at most
    `maxsize` items as it arrives, so the workers start before the source is finished, and
    while the queue is full wait instead of reading on.
    `handle(item)` raises for some items; such an item must not stop its worker. Return a
    tuple `(results, failures)` of two dicts: `results` maps each item whose handle returned
    to what it returned, `failures` maps each item whose handle raised to the exception
    object it raised. Stop the workers before returning, as in Task 1, and also when the
    source itself raises: then its error goes on to your caller, with no worker left running.
    """
    queue = asyncio.Queue(maxsize)
    results, failures = {}, {}

    async def worker():
        while True:
            item = await queue.get()
            try:
                results[item] = await handle(item)
            except asyncio.CancelledError:
                raise  # the stop: not an error of handle's
            except BaseException as error:  # whatever handle raised
                failures[item] = error
            finally:
                queue.task_done()

    tasks = [asyncio.create_task(worker()) for _ in range(workers)]
    try:
        async for item in source:
            await queue.put(item)
        await queue.join()
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return results, failures
