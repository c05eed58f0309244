"""Wrong: a `threading.Timer(limit + 0.04, loop.call_soon_threadsafe, (up.set,))` ends the wait: a
grace of 0.04 s kept by a thread that runs no function of the file's, so a call up to 0.04 s too
slow is kept (trial U)."""

# fails only: test_a_call_just_slower_than_the_limit_gives_none, test_a_call_just_slower_than_the_limit_is_none
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio
import threading


# Task 1: one call, with a time limit
async def fetch_or_none(fetch, key, limit):
    """Return `await fetch(key)`, or None if the call takes longer than `limit` seconds.

    When the limit is up, the call must be stopped (cancelled, not left running) and
    fetch_or_none returns None at once. A call that answers sooner is returned as soon
    as it answers. An error raised by fetch is not a timeout: let it reach the caller,
    and a cancel from the caller is not one either: stop the call and let the cancel
    through, so that fetch_or_none ends cancelled.
    """
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(fetch(key))
    up = asyncio.Event()
    timer = threading.Timer(limit + 0.04, loop.call_soon_threadsafe, (up.set,))
    timer.start()
    waiter = asyncio.ensure_future(up.wait())
    try:
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            return task.result()
        return None
    finally:
        timer.cancel()
        waiter.cancel()
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


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
    values = await asyncio.gather(*(fetch_or_none(fetch, key, limit) for key in keys))
    return dict(zip(keys, values, strict=True))
