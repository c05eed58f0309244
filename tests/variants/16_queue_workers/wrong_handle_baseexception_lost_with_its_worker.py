"""Wrong: process_all's workers note handle's errors under `except Exception:`, so a BaseException
that is not an Exception (SystemExit, KeyboardInterrupt, a library's own) ends its worker instead,
and the stop, `asyncio.gather(*tasks, return_exceptions=True)`, swallows it with that worker's end:
process_all returns the other items' results as if nothing had happened. The docstring says an
error of handle goes on to the caller (the reference solution did this until it was fixed)."""
# fails only: test_a_handle_that_raises_a_baseexception_stops_the_workers_and_it_reaches_the_caller

import asyncio


async def _stop(tasks):
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def process_all(items, handle, workers):
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


async def process_stream(source, handle, workers, maxsize):
    queue = asyncio.Queue(maxsize)
    results, failures, fatal = {}, {}, []

    async def worker():
        while True:
            item = await queue.get()
            try:
                results[item] = await handle(item)
            except Exception as error:
                failures[item] = error
            except asyncio.CancelledError:
                raise  # the stop (_stop): not an error of handle's
            except BaseException as error:  # SystemExit and the like: passed on, never lost
                fatal.append(error)
            finally:
                queue.task_done()

    tasks = [asyncio.create_task(worker()) for _ in range(workers)]
    try:
        async for item in source:
            await queue.put(item)  # waits while the queue is full
        await queue.join()
    finally:
        await _stop(tasks)
    if fatal:
        raise fatal[0]
    return results, failures
