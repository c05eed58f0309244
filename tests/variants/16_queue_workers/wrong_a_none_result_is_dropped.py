"""Mistake: process_stream keeps a result only when it is not None, so an item whose handle
returned None is missing from `results`, where the docstring asks for "what handle returned for
each item"."""

# fails only: test_none_and_other_falsy_items_and_results_from_the_source_are_kept

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
    """Handle every item that the async iterator `source` yields, with `workers` workers.

    Return `(results, failures)`: what handle returned for each item, and the exception it
    raised for each item that failed. Stop the workers before returning, and also when the
    source itself raises: then its error goes on to the caller, with no worker left running.
    """
    queue = asyncio.Queue(maxsize)
    outcomes = []

    async def worker():
        while True:
            item = await queue.get()
            result = error = None
            try:
                result = await handle(item)
            except asyncio.CancelledError:
                raise  # the stop: not an error of handle's
            except BaseException as caught:  # whatever handle raised
                error = caught
            finally:
                outcomes.append((item, result, error))
                queue.task_done()

    tasks = [asyncio.create_task(worker()) for _ in range(workers)]
    try:
        async for item in source:
            await queue.put(item)  # waits while the queue is full
        await queue.join()
    finally:
        await _stop(tasks)
    results = {item: result for item, result, error in outcomes if result is not None}
    failures = {item: error for item, result, error in outcomes if error is not None}
    return results, failures
