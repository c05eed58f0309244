"""Correct: once the answer is in (or on an error, or a cancel), it cancels the calls still running and
waits until they have stopped, logging every second that some are still stopping
(`asyncio.wait(pending, timeout=1.0)` in a loop): a timer that only logs."""

import asyncio
import logging

log = logging.getLogger(__name__)


async def stop_all(tasks):
    for task in tasks:
        task.cancel()
    pending = set(tasks)
    while pending:
        _, pending = await asyncio.wait(pending, timeout=1.0)
        if pending:
            log.info("%d calls still stopping", len(pending))
    for task in tasks:  # asyncio.wait reads no error: a call may raise as it stops
        if not task.cancelled():
            task.exception()


# Task 1: handle each result as it arrives
async def process_as_they_arrive(fetch, ids, on_result):
    """Call `await fetch(id)` for every id in `ids`, all at the same time.

    As each call finishes, call `on_result(id, value)` right away: fastest call first.
    With no ids, make no call and return at once.
    If a call raises, let its error reach your caller: hand `on_result` only what calls returned.
    If a call raises, or your function is cancelled, first cancel the calls still running and
    wait until they have stopped.
    """

    async def tagged(item_id):
        return item_id, await fetch(item_id)

    tasks = [asyncio.create_task(tagged(item_id)) for item_id in ids]
    try:
        for next_done in asyncio.as_completed(tasks):
            item_id, value = await next_done
            on_result(item_id, value)
    finally:
        await stop_all(tasks)


# Task 2: the fastest mirror wins
async def first_response(fetch, mirrors):
    """Ask every mirror at once and return the first answer to arrive (`mirrors` is never empty).

    Cancel the calls still running, and wait until they have stopped, before returning.
    If the first call to finish raised, raise its error (after stopping the others the same way).
    """
    tasks = [asyncio.create_task(fetch(mirror)) for mirror in mirrors]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        return done.pop().result()
    finally:
        await stop_all(tasks)


# Task 3: the fastest answer that worked
async def first_success(fetch, mirrors):
    """Like `first_response`, but a call that raises is skipped.

    If every call fails, raise an `ExceptionGroup` holding all of their exceptions.
    """
    tasks = [asyncio.create_task(fetch(mirror)) for mirror in mirrors]
    errors = []
    try:
        for next_done in asyncio.as_completed(tasks):
            try:
                return await next_done
            except Exception as error:
                errors.append(error)
    finally:
        await stop_all(tasks)
    raise ExceptionGroup("every mirror failed", errors)
