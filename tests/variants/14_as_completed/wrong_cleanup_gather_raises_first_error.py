"""Mistake: the cleanup cancels the calls, then awaits gather(*tasks) under `except Exception: pass`.
Without return_exceptions=True, gather raises a failed mirror's error at once, so the cancelled
calls are not waited for: first_success returns while they are still stopping."""

import asyncio
import contextlib


async def process_as_they_arrive(fetch, ids, on_result):
    async def tagged(i):
        return i, await fetch(i)

    ts = [asyncio.create_task(tagged(i)) for i in ids]
    try:
        for fut in asyncio.as_completed(ts):
            i, v = await fut
            on_result(i, v)
    finally:
        for t in ts:
            t.cancel()
        await asyncio.gather(*ts, return_exceptions=True)


async def _stop(tasks):
    for t in tasks:
        t.cancel()
    with contextlib.suppress(Exception):  # a failed mirror, already counted
        await asyncio.gather(*tasks)


async def first_response(fetch, mirrors):
    tasks = [asyncio.create_task(fetch(m)) for m in mirrors]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        return done.pop().result()
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def first_success(fetch, mirrors):
    tasks = [asyncio.create_task(fetch(m)) for m in mirrors]
    errors = []
    try:
        for fut in asyncio.as_completed(tasks):
            try:
                return await fut
            except Exception as e:
                errors.append(e)
    finally:
        await _stop(tasks)
    raise ExceptionGroup("every mirror failed", errors)
