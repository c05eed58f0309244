"""Correct: anyio task groups, the first answer cancels the scope (a learner trial). anyio asks a
cancelled task to stop again at every loop turn while a test holds its call stopping: no wake-up of
the code's own."""

import asyncio

import anyio


async def process_as_they_arrive(fetch, ids, on_result):
    async def one(item_id):
        value = await fetch(item_id)
        on_result(item_id, value)

    try:
        async with anyio.create_task_group() as tg:
            for item_id in ids:
                tg.start_soon(one, item_id)
    except BaseExceptionGroup as group:
        raise group.exceptions[0] from None


async def first_response(fetch, mirrors):
    outcome = []

    async def ask(mirror):
        try:
            value = await fetch(mirror)
        except asyncio.CancelledError:
            raise
        except BaseException as error:  # any error of the first call to finish, whatever its class
            if not outcome:
                outcome.append((False, error))
        else:
            if not outcome:
                outcome.append((True, value))
        tg.cancel_scope.cancel()

    async with anyio.create_task_group() as tg:
        for mirror in mirrors:
            tg.start_soon(ask, mirror)
    ok, value = outcome[0]
    if not ok:
        raise value
    return value


async def first_success(fetch, mirrors):
    winner = []
    errors = []

    async def ask(mirror):
        try:
            value = await fetch(mirror)
        except Exception as error:
            errors.append(error)
            return
        if not winner:
            winner.append(value)
            tg.cancel_scope.cancel()

    try:
        async with anyio.create_task_group() as tg:
            for mirror in mirrors:
                tg.start_soon(ask, mirror)
    except BaseExceptionGroup as group:  # a KeyboardInterrupt-like error of a call: not a failed mirror
        raise group.exceptions[0] from None
    if winner:
        return winner[0]
    raise ExceptionGroup("every mirror failed", errors)
