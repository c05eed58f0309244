"""Wrong: fetch_all_within first waits 0.04 s for the calls, then takes its deadline: the batch gets
limit + 0.04 s, so a call up to 0.04 s too slow is kept (trial U)."""

# fails only: test_a_call_just_slower_than_the_limit_is_none

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
    # deadline taken only after every call has been started and the loop has had a short turn
    tasks = [asyncio.ensure_future(fetch(key)) for key in keys]
    try:
        if tasks:
            await asyncio.wait(tasks, timeout=0.04)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + limit
            pending = [t for t in tasks if not t.done()]
            if pending:
                await asyncio.wait(pending, timeout=deadline - loop.time())
        return {
            key: (t.result() if t.done() and not t.cancelled() else None)
            for key, t in zip(keys, tasks, strict=False)
        }
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
