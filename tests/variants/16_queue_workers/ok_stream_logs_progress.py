"""Correct: process_stream feeds the queue in a task and logs progress while it waits
(`asyncio.wait(pending, timeout=1.0)` in a loop; a learner trial's answer): a log, not a poll.
"""

import asyncio
import logging

log = logging.getLogger(__name__)


async def _warn_if_slow(what, after=5.0):
    """A watchdog: warns once if `what` is still running `after` s on. It never stops anything."""
    await asyncio.sleep(after)
    log.warning("%s: still waiting after %.0f s", what, after)


async def _heartbeat(what, every=2.0):
    """Logs a line every `every` s while `what` runs. It never stops anything."""
    while True:
        await asyncio.sleep(every)
        log.debug("%s: still running", what)


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
    A cancel from the caller stops it and its workers: let it through, so that it ends
    cancelled with no worker left running.
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
    A cancel from the caller stops it and its workers: let it through, so that it ends
    cancelled with no worker left running.
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

    async def feed():
        async for item in source:
            await queue.put(item)  # waits while the queue is full
        await queue.join()

    tasks = [asyncio.create_task(worker()) for _ in range(workers)]
    feeder = asyncio.create_task(feed())
    try:
        pending = {feeder}
        while pending:
            _, pending = await asyncio.wait(pending, timeout=1.0)
            if pending:
                log.info("process_stream: %d handled, %d failed so far", len(results), len(failures))
        feeder.result()  # the source's error, if it raised
    finally:
        await _stop([*tasks, feeder])
    return results, failures
