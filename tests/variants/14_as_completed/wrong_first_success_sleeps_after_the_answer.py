"""Mistake: once a call has worked, first_success cancels the slower calls and then sleeps
0.2 s (`await asyncio.sleep(0.2)`) instead of waiting until they have stopped; on a cancel it
waits properly. A call slower than the guess to stop is left running."""
# fails only: test_the_slower_calls_are_cancelled_once_one_works, test_errors_raised_as_calls_stop_are_read

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
    errors = []
    ending = "returned"
    try:
        for next_done in asyncio.as_completed(tasks):
            try:
                return await next_done
            except Exception as error:
                errors.append(error)
    except asyncio.CancelledError:
        ending = "cancelled"
        raise
    except BaseException:
        ending = "raised"
        raise
    finally:
        for task in tasks:
            task.cancel()
        if ending == "returned":
            await asyncio.sleep(0.2)  # a guess at how long they take to stop
        else:
            await asyncio.gather(*tasks, return_exceptions=True)
    raise ExceptionGroup("every mirror failed", errors)
