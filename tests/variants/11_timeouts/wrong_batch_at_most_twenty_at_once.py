"""Wrong: fetch_all_within lets at most 20 calls run at once (a Semaphore(20), "to be kind to the
server"), just above the other tests' 11-20 keys: with more keys, the rest start only as others end,
though the docstring asks for every call at the same time."""
# fails only: test_however_many_keys_there_are_every_call_runs_at_once

import asyncio

_polite = 20  # at most 20 calls at once, to be kind to the server


async def fetch_or_none(fetch, key, limit):
    """Return `await fetch(key)`, or None if the call takes longer than `limit` seconds.

    When the limit is up, the call must be stopped (cancelled, not left running) and
    fetch_or_none returns None at once. A call that answers sooner is returned as soon
    as it answers. An error raised by fetch is not a timeout: let it reach the caller,
    and a cancel from the caller is not one either: stop the call and let the cancel
    through, so that fetch_or_none ends cancelled.
    """
    try:
        async with asyncio.timeout(limit):
            return await fetch(key)
    except TimeoutError:
        return None


# Task 2: a batch with one deadline
async def fetch_all_within(fetch, keys, limit):
    sem = asyncio.Semaphore(_polite)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit

    async def one(key):
        async with sem:
            try:
                async with asyncio.timeout_at(deadline):
                    return await fetch(key)
            except TimeoutError:
                return None

    values = await asyncio.gather(*(one(key) for key in keys))
    return dict(zip(keys, values, strict=True))
