"""Wrong: process_stream's results and failures are module-level dicts: a second call returns the
first call's items too (a learner trial's answer)."""
# fails only: test_a_second_call_returns_only_its_own_items_and_failures, test_every_number_of_workers_has_that_many_items_from_the_source_handled_at_once
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio

_results, _failures = {}, {}


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
    results, failures = _results, _failures

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
            await queue.put(item)  # waits while the queue is full
        await queue.join()
    finally:
        await _stop(tasks)
    return results, failures
