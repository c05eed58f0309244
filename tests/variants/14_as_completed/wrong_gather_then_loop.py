"""Mistake: gathers every result first, so nothing is handled until the slowest call is done."""

import asyncio


async def process_as_they_arrive(fetch, ids, on_result):
    results = await asyncio.gather(*(fetch(item_id) for item_id in ids))
    for item_id, value in zip(ids, results, strict=True):
        on_result(item_id, value)


async def first_response(fetch, mirrors):
    results = await asyncio.gather(*(fetch(mirror) for mirror in mirrors))
    return results[0]


async def first_success(fetch, mirrors):
    results = await asyncio.gather(*(fetch(mirror) for mirror in mirrors), return_exceptions=True)
    errors = [result for result in results if isinstance(result, Exception)]
    for result in results:
        if not isinstance(result, Exception):
            return result
    raise ExceptionGroup("every mirror failed", errors)
