"""Mistake: join() runs beside the producer and returns while the queue is briefly empty; the rest is lost."""
# fails only: test_every_item_from_the_source_is_handled_exactly_once, test_exactly_workers_items_are_handled_at_once_as_they_arrive, test_a_failing_item_is_reported_and_the_rest_handled, test_workers_go_on_after_more_failures_than_there_are_workers, test_a_second_call_returns_only_its_own_items_and_failures, test_none_and_other_falsy_items_and_results_from_the_source_are_kept, test_a_handle_that_raises_a_baseexception_in_the_stream_never_loses_it
# fails at times: test_every_number_of_workers_has_that_many_items_from_the_source_handled_at_once
# (its sources hand out their items with no pause: in one process the queue is seldom empty before the
# last is on it; in judge mode, each crossing from the other process, it is)
# ruff: noqa: E501

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

    tasks = [asyncio.create_task(worker()) for _ in range(workers)]

    async def produce():
        async for item in source:
            await queue.put(item)  # waits while the queue is full

    try:
        await asyncio.gather(produce(), queue.join())
    finally:
        await _stop(tasks)
    return results, failures
