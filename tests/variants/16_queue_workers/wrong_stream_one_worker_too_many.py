"""Mistake: process_stream starts one worker more than `workers` (`range(workers + 1)`, an extra one
"for the producer"): `workers + 1` items are handled at once, where the docstring gives `workers`."""
# fails only: test_exactly_workers_items_are_handled_at_once_as_they_arrive
# fails at times: test_every_number_of_workers_has_that_many_items_from_the_source_handled_at_once
# (its calls are let go once w are running: the extra worker's call, crossing from the judge, can start after one ended)
# ruff: noqa: E501 (the line above names every test it fails)

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

    tasks = [asyncio.create_task(worker()) for _ in range(workers + 1)]  # <- one worker too many
    try:
        async for item in source:
            await queue.put(item)  # waits while the queue is full
        await queue.join()
    finally:
        await _stop(tasks)
    return results, failures
