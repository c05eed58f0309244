"""Wrong: the limit kept by `loop.call_later(limit + 0.05, ...)`, which cancels the call: a grace
of 0.05 s, so a call up to 0.05 s too slow is kept."""

# fails only: test_a_call_just_slower_than_the_limit_gives_none, test_a_call_just_slower_than_the_limit_is_none
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio


# Task 1: one call, with a time limit
async def fetch_or_none(fetch, key, limit):
    me = asyncio.current_task()
    timed_out = False

    def time_up():
        nonlocal timed_out
        timed_out = True
        me.cancel()

    handle = asyncio.get_running_loop().call_later(limit + 0.05, time_up)
    try:
        return await fetch(key)
    except asyncio.CancelledError:
        if timed_out and me.uncancel() == 0:
            return None
        raise
    finally:
        handle.cancel()


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
