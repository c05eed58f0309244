"""Correct: each call wrapped to report its own result; a future settles the race, and is read
once the TaskGroup has ended."""

import asyncio


async def process_as_they_arrive(fetch, ids, on_result):
    async def handle(item_id):
        on_result(item_id, await fetch(item_id))

    async with asyncio.TaskGroup() as group:
        for item_id in ids:
            group.create_task(handle(item_id))


async def race(fetch, mirrors, skip_failures):
    winner = asyncio.get_running_loop().create_future()
    errors = []

    async def ask(mirror):
        try:
            value = await fetch(mirror)
        except Exception as error:
            if not skip_failures and not winner.done():
                winner.set_exception(error)
            errors.append(error)
            if len(errors) == len(mirrors) and not winner.done():
                winner.set_exception(ExceptionGroup("every mirror failed", errors))
            return
        if not winner.done():
            winner.set_result(value)

    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(ask(mirror)) for mirror in mirrors]
        try:
            await asyncio.wait([winner])
        finally:
            winner.cancel()  # cancelled meanwhile: nobody will read it (a no-op once it has settled)
            for task in tasks:
                task.cancel()
    # Read after the block: raised inside it, the error would reach the caller wrapped in the
    # TaskGroup's own ExceptionGroup (a group of the group "every mirror failed").
    return winner.result()


async def first_response(fetch, mirrors):
    return await race(fetch, mirrors, skip_failures=False)


async def first_success(fetch, mirrors):
    return await race(fetch, mirrors, skip_failures=True)
