"""Wrong: fetch_all_within calls fetch for two keys or fewer one after another, each with the whole limit, and
gathers the calls only from three on (learner trial AA)."""
# fails only: test_when_every_call_is_fast_it_does_not_wait_for_the_limit[two_keys]

import asyncio


# Task 1: one call, with a time limit
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
    """Call `await fetch(key)` for every key in `keys`, all at the same time, for at most `limit` s.

    Return a dict that maps every key to its call's value, or to None if that call was
    still running when the limit was up (stop those calls: cancel them). The whole batch
    takes about `limit` seconds at most, and less when every call answers sooner.
    An error raised by a call is not a timeout: let it reach the caller. If the caller
    cancels fetch_all_within, first cancel the calls still running and wait until they
    have stopped, then let the cancel through, so that it ends cancelled.
    """
    if len(keys) <= 2:
        return {key: await fetch_or_none(fetch, key, limit) for key in keys}
    values = await asyncio.gather(*(fetch_or_none(fetch, key, limit) for key in keys))
    return dict(zip(keys, values, strict=True))
