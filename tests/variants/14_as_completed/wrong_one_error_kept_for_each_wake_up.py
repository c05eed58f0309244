"""Wrong: first_success keeps one error each time its wait wakes up: when several mirrors fail at
the same moment, the ExceptionGroup holds only one of their errors (a learner trial's answer).
No `fails only` line: the tests where mirrors fail at one moment catch it every run, and on a
loaded machine any test whose failures come a few ms apart may see two handed over together and
catch it too (the CI at 776ff39, in judge mode: the slow-mirrors test)."""

import asyncio


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
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


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
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


# Task 3: the fastest answer that worked
async def first_success(fetch, mirrors):
    """Like `first_response`, but a call that raises is skipped.

    If every call fails, raise an `ExceptionGroup` holding all of their exceptions.
    """
    tasks = [asyncio.create_task(fetch(mirror)) for mirror in mirrors]
    pending, errors = set(tasks), []
    try:
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task.exception() is None:
                    return task.result()
            errors.append(done.pop().exception())  # the mistake on show: one error a wake-up
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    raise ExceptionGroup("every mirror failed", errors)
