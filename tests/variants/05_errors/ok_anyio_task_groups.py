"""Correct: anyio task groups (a learner trial). anyio asks a cancelled task to stop again at every
loop turn while a test holds its call stopping: no wake-up of the code's own."""

import anyio


async def fetch_all_settled(fetch, ids):
    successes, failures = {}, {}

    async def settle(item_id):
        try:
            value = await fetch(item_id)
        except Exception as error:
            failures[item_id] = error
        else:
            successes[item_id] = value

    async with anyio.create_task_group() as tg:
        for item_id in ids:
            tg.start_soon(settle, item_id)
    return successes, failures


async def fetch_all_or_nothing(fetch, ids):
    ids = list(ids)
    results = {}

    async def one(index, item_id):
        results[index] = await fetch(item_id)

    try:
        async with anyio.create_task_group() as tg:
            for index, item_id in enumerate(ids):
                tg.start_soon(one, index, item_id)
    except BaseExceptionGroup as group:
        raise group.exceptions[0] from None
    return [results[i] for i in range(len(ids))]
