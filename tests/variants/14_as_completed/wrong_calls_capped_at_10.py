"""Wrong: at most 10 calls at once (a semaphore "to be kind to the server"), not every call at once."""
# fails only: test_every_call_runs_at_the_same_time, test_the_fastest_mirror_answers, test_more_than_a_hundred_calls_all_run_at_the_same_time, test_a_list_of_any_size_has_all_its_calls_run_at_the_same_time, test_any_number_of_mirrors_are_all_asked_at_once_by_first_response, test_more_than_a_hundred_mirrors_are_all_asked_at_once_by_first_response
# ruff: noqa: E501 (the line above names every test it fails)
# process_as_they_arrive and first_response hold every call past the tenth until a slot is free: the
# docstrings ask for every id, every mirror, at once (first_success is right). Tests with 5 or 6
# calls never see the cap (a red team's answer).

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

    polite = asyncio.Semaphore(10)  # never more than 10 calls at once, to be kind to the server

    async def tagged(item_id):
        async with polite:
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
    polite = asyncio.Semaphore(10)  # never more than 10 calls at once

    async def ask(mirror):
        async with polite:
            return await fetch(mirror)

    tasks = [asyncio.create_task(ask(mirror)) for mirror in mirrors]
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
    try:
        for next_done in asyncio.as_completed(tasks):
            try:
                return await next_done
            except Exception as error:
                errors.append(error)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    raise ExceptionGroup("every mirror failed", errors)
