"""Wrong: fetch_or_none catches asyncio.CancelledError with TimeoutError and returns None, so a
cancel from its caller is swallowed: the caller's task goes on as if nothing happened."""
# fails only: test_a_cancel_from_the_caller_is_not_a_timeout

import asyncio


async def fetch_or_none(fetch, key, limit):
    try:
        async with asyncio.timeout(limit):
            return await fetch(key)
    except (TimeoutError, asyncio.CancelledError):
        return None


async def fetch_all_within(fetch, keys, limit):
    values = await asyncio.gather(*(fetch_or_none(fetch, key, limit) for key in keys))
    return dict(zip(keys, values, strict=True))
