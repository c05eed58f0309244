"""Mistake: errors are caught and thrown away, so the failures are lost."""

import asyncio


async def fetch_all_settled(fetch, ids):
    async def quietly(item_id):
        try:
            return await fetch(item_id)
        except Exception:
            return None

    results = await asyncio.gather(*(quietly(item_id) for item_id in ids))
    successes = {item_id: r for item_id, r in zip(ids, results, strict=True) if r is not None}
    return successes, {}


async def fetch_all_or_nothing(fetch, ids):
    tasks = [asyncio.create_task(fetch(item_id)) for item_id in ids]
    try:
        return await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
