"""Wrong: the call raced against `asyncio.sleep(limit + 0.05)`: a grace of 0.05 s, so a call up to
0.05 s too slow is kept."""

# fails only: test_a_call_just_slower_than_the_limit_gives_none, test_a_call_just_slower_than_the_limit_is_none
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio


# Task 1: one call, with a time limit
async def fetch_or_none(fetch, key, limit):
    call = asyncio.create_task(fetch(key))
    timer = asyncio.create_task(asyncio.sleep(limit + 0.05))
    try:
        await asyncio.wait({call, timer}, return_when=asyncio.FIRST_COMPLETED)
        if call.done():
            return call.result()
        return None
    finally:
        call.cancel()
        timer.cancel()
        await asyncio.wait({call, timer})


# Task 2: a batch with one deadline
async def fetch_all_within(fetch, keys, limit):
    """Call `await fetch(key)` for every key in `keys`, all at the same time, for at most `limit` s.

    Return a dict that maps every key to its call's value, or to None if that call was
    still running when the limit was up (stop those calls: cancel them). The whole batch
    takes about `limit` seconds at most, and less when every call answers sooner.
    An error raised by a call is not a timeout: let it reach the caller.
    """
    values = await asyncio.gather(*(fetch_or_none(fetch, key, limit) for key in keys))
    return dict(zip(keys, values, strict=True))
