"""Correct: process_stream runs the producer (the async for, then join) as a task it awaits, and a
finally cancels and gathers the producer and the workers.
"""

import asyncio


async def _stop(tasks):
    """Cancel the workers, then wait until every one has really stopped."""
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


# Task 1: a crew of workers
async def process_all(items, handle, workers):
    """Handle every item in `items` with `await handle(item)`, using `workers` worker tasks fed by one queue.

    Return a dict that maps each item to what `handle` returned for it. Stop the workers
    before returning. If `handle` raises, its error (the first, if several) goes on to your
    caller once the workers have stopped.
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
            except asyncio.CancelledError:
                raise  # the stop: not an error of handle's
            except BaseException as error:  # SystemExit and the like too: none may be lost
                errors.append(error)  # an error ending the worker would leave join() waiting
            finally:
                queue.task_done()

    tasks = [asyncio.create_task(worker()) for _ in range(workers)]
    try:
        await queue.join()
    finally:
        await _stop(tasks)
    if errors:
        raise errors[0]
    return results


# Task 2: items that arrive over time
async def process_stream(source, handle, workers, maxsize):
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

    async def produce():
        async for item in source:
            await queue.put(item)
        await queue.join()

    tasks = [asyncio.create_task(worker()) for _ in range(workers)]
    producer = asyncio.create_task(produce())
    try:
        await producer
    finally:
        producer.cancel()
        for task in tasks:
            task.cancel()
        await asyncio.gather(producer, *tasks, return_exceptions=True)
    return results, failures
