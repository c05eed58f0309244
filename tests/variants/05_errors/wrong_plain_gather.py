"""Mistake: plain gather, without return_exceptions, and nothing cancelled when a call fails."""

import asyncio


async def fetch_all_settled(fetch, ids):
    results = await asyncio.gather(*(fetch(item_id) for item_id in ids))
    successes, failures = {}, {}
    for item_id, result in zip(ids, results, strict=True):
        if isinstance(result, Exception):
            failures[item_id] = result
        else:
            successes[item_id] = result
    return successes, failures


async def fetch_all_or_nothing(fetch, ids):
    return await asyncio.gather(*(fetch(item_id) for item_id in ids))
