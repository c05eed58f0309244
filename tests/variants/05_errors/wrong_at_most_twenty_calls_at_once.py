"""Wrong: both functions let at most 20 calls run at once (a Semaphore(20) made per call, "to be
kind to the server"), just above the other tests' 11-16 ids: with more ids, the rest start only
as others end, though the docstrings ask for every call at the same time."""
# fails only: test_however_many_ids_there_are_fetch_all_settled_runs_every_call_at_once, test_however_many_ids_there_are_fetch_all_or_nothing_runs_every_call_at_once
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio

POLITE = 20  # at most 20 calls at once, to be kind to the server


async def fetch_all_settled(fetch, ids):
    sem = asyncio.Semaphore(POLITE)

    async def one(item_id):
        async with sem:
            return await fetch(item_id)

    results = await asyncio.gather(*(one(item_id) for item_id in ids), return_exceptions=True)
    successes, failures = {}, {}
    for item_id, result in zip(ids, results, strict=True):
        if isinstance(result, Exception):
            failures[item_id] = result
        else:
            successes[item_id] = result
    return successes, failures


async def fetch_all_or_nothing(fetch, ids):
    sem = asyncio.Semaphore(POLITE)

    async def one(item_id):
        async with sem:
            return await fetch(item_id)

    tasks = [asyncio.create_task(one(item_id)) for item_id in ids]
    try:
        return await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
