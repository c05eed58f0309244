"""process_stream's workers poll the queue (`get_nowait()`, and a 0.5 s sleep when it is empty): too
slow a period to wake in the stretch a test watches, yet each learns of an item only at its next check.
Caught by test_idle_workers_sleep_until_the_next_item_comes (its timers probed as the source speaks
again); its slowness fails two or three other tests too, which ones depending on the draw (no
`fails only` line for that reason).
"""

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
    queue = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)
    results, errors = {}, []

    async def worker():
        while True:
            item = await queue.get()
            try:
                results[item] = await handle(item)
            except Exception as error:
                errors.append(error)
            finally:
                queue.task_done()

    tasks = [asyncio.create_task(worker()) for _ in range(workers)]
    try:
        await queue.join()
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    if errors:
        raise errors[0]
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
    finished = False

    async def worker():
        while True:
            try:
                item = queue.get_nowait()
            except asyncio.QueueEmpty:
                if finished:
                    return
                await asyncio.sleep(0.5)
                continue
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
        finished = True
        await asyncio.gather(*tasks)
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return results, failures
