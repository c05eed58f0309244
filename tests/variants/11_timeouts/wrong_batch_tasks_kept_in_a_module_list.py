"""fetch_all_within keeps its tasks in a list outside the function: a batch whose limit is up cancels
the calls of another batch running at the same time."""
# fails only: test_two_batches_at_once_each_keep_their_own_calls

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
    tasks = [asyncio.create_task(fetch(key)) for key in keys]
    _running.extend(tasks)
    try:
        if tasks:
            await asyncio.wait(tasks, timeout=limit)
    finally:
        # stop whatever is still running, then wait for it to end
        leftover = [task for task in _running if not task.done()]
        for task in leftover:
            task.cancel()
        await asyncio.gather(*leftover, return_exceptions=True)
        _running.clear()
    return {key: (None if task.cancelled() else task.result()) for key, task in zip(keys, tasks, strict=True)}


_running = []
