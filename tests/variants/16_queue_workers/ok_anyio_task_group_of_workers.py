"""Correct: asyncio.Queue workers run in an anyio task group, stopped by cancelling its scope (a
learner trial). anyio asks a cancelled task to stop again at every loop turn while a test holds its
call stopping: no wake-up of the code's own."""

import asyncio

import anyio


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
                raise
            except BaseException as error:  # none may be lost, SystemExit and the like too
                errors.append(error)
            finally:
                queue.task_done()

    try:
        async with anyio.create_task_group() as tg:
            for _ in range(workers):
                tg.start_soon(worker)
            await queue.join()
            tg.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        raise group.exceptions[0] from None
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
            except Exception as error:
                failures[item] = error
            finally:
                queue.task_done()

    try:
        async with anyio.create_task_group() as tg:
            for _ in range(workers):
                tg.start_soon(worker)
            async for item in source:
                await queue.put(item)
            await queue.join()
            tg.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        raise group.exceptions[0] from None
    return results, failures
