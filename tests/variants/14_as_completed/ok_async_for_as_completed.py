"""Correct: 3.13's `async for` over asyncio.as_completed (yields finished tasks); cleanup in a finally."""

import asyncio
import sys


async def stop(tasks):
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


if sys.version_info >= (3, 13):

    async def process_as_they_arrive(fetch, ids, on_result):
        tasks = {asyncio.create_task(fetch(item_id)): item_id for item_id in ids}
        try:
            async for task in asyncio.as_completed(tasks):
                on_result(tasks[task], task.result())
        finally:
            await stop(tasks)

    async def first_response(fetch, mirrors):
        tasks = [asyncio.create_task(fetch(mirror)) for mirror in mirrors]
        try:
            async for task in asyncio.as_completed(tasks):
                return task.result()
        finally:
            await stop(tasks)

    async def first_success(fetch, mirrors):
        tasks = [asyncio.create_task(fetch(mirror)) for mirror in mirrors]
        try:
            async for task in asyncio.as_completed(tasks):
                if task.exception() is None:
                    return task.result()
        finally:
            await stop(tasks)
        raise ExceptionGroup("every mirror failed", [task.exception() for task in tasks])

else:  # before 3.13, as_completed is a plain iterator of awaitables

    async def process_as_they_arrive(fetch, ids, on_result):
        async def tagged(item_id):
            return item_id, await fetch(item_id)

        tasks = [asyncio.create_task(tagged(item_id)) for item_id in ids]
        try:
            for next_done in asyncio.as_completed(tasks):
                on_result(*await next_done)
        finally:
            await stop(tasks)

    async def first_response(fetch, mirrors):
        tasks = [asyncio.create_task(fetch(mirror)) for mirror in mirrors]
        try:
            for next_done in asyncio.as_completed(tasks):
                return await next_done
        finally:
            await stop(tasks)

    async def first_success(fetch, mirrors):
        tasks = [asyncio.create_task(fetch(mirror)) for mirror in mirrors]
        try:
            for next_done in asyncio.as_completed(tasks):
                try:
                    return await next_done
                except Exception:
                    pass
        finally:
            await stop(tasks)
        raise ExceptionGroup("every mirror failed", [task.exception() for task in tasks])
