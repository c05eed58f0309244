"""Wrong: the batch runs at most 10 calls at once (a semaphore "to be polite"), not all at the same time."""
# fails only: test_every_call_starts_at_once, test_however_many_keys_there_are_every_call_runs_at_once
# The docstring asks for every call "all at the same time": with more than 10 keys, the calls past
# the tenth wait for a free slot and start late (past the limit, they give None unasked). Tests with
# 5 or 6 keys never see the cap (a red team's answer).

import asyncio


async def fetch_or_none(fetch, key, limit):
    try:
        async with asyncio.timeout(limit):
            return await fetch(key)
    except TimeoutError:
        return None


async def fetch_all_within(fetch, keys, limit):
    polite = asyncio.Semaphore(10)  # at most 10 calls at once

    async def one(key):
        async with polite:
            return await fetch_or_none(fetch, key, limit)

    values = await asyncio.gather(*(one(key) for key in keys))
    return dict(zip(keys, values, strict=True))
