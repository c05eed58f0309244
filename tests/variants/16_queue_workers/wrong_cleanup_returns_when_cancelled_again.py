"""Wrong: both functions stop their workers when cancelled (cancel, then `asyncio.gather(*tasks,
return_exceptions=True)`), but a second cancel during that wait is caught, and they return what was
handled so far: whoever cancelled them (a timeout, then its own caller) takes that for the result."""
# fails only: test_process_all_cancelled_again_while_its_workers_stop_ends_cancelled, test_process_stream_cancelled_again_while_its_workers_stop_ends_cancelled
# ruff: noqa: E501 (the line above names every test it fails)

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
            except asyncio.CancelledError:
                raise  # the stop: not an error of handle's
            except BaseException as error:  # SystemExit and the like too: none may be lost
                errors.append(error)
            finally:
                queue.task_done()

    tasks = [asyncio.create_task(worker()) for _ in range(workers)]
    try:
        await queue.join()
    except asyncio.CancelledError:
        try:
            await _stop(tasks)
        except asyncio.CancelledError:
            return results  # cancelled again while stopping: give back what is done
        raise
    await _stop(tasks)
    if errors:
        raise errors[0]
    return results


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

    tasks = [asyncio.create_task(worker()) for _ in range(workers)]
    try:
        async for item in source:
            await queue.put(item)
        await queue.join()
    except asyncio.CancelledError:
        try:
            await _stop(tasks)
        except asyncio.CancelledError:
            return results, failures
        raise
    except BaseException:
        await _stop(tasks)
        raise
    await _stop(tasks)
    return results, failures
