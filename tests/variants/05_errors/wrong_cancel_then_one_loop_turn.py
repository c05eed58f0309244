"""Mistake: cancels the other tasks and gives them one loop turn (`await asyncio.sleep(0)`), then
raises: a call that takes longer than that to stop is still running."""

import asyncio


async def fetch_all_settled(fetch, ids):
    results = await asyncio.gather(*(fetch(item_id) for item_id in ids), return_exceptions=True)
    successes, failures = {}, {}
    for item_id, result in zip(ids, results, strict=True):
        if isinstance(result, Exception):
            failures[item_id] = result
        else:
            successes[item_id] = result
    return successes, failures


async def fetch_all_or_nothing(fetch, ids):
    tasks = [asyncio.create_task(fetch(item_id)) for item_id in ids]
    try:
        return await asyncio.gather(*tasks)
    except Exception:
        for task in tasks:
            task.cancel()
        await asyncio.sleep(0)  # "give them a moment to stop"
        raise
