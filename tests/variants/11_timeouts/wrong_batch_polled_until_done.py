"""fetch_all_within starts its calls as tasks (each under its own timeout) and checks every 10 ms
whether they are all done, instead of awaiting them: each call's limit holds, the batch returns in
time, but the function wakes again and again while the calls run.
"""

# fails only: test_every_call_starts_at_once

import asyncio


# Task 1: one call, with a time limit
async def fetch_or_none(fetch, key, limit):
    """Return `await fetch(key)`, or None if the call takes longer than `limit` seconds.

    When the limit is up, the call must be stopped (cancelled, not left running) and
    fetch_or_none returns None at once. A call that answers sooner is returned as soon
    as it answers. An error raised by fetch is not a timeout: let it reach the caller.
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
    An error raised by a call is not a timeout: let it reach the caller.
    """
    _tasks = [asyncio.create_task(fetch_or_none(fetch, key, limit)) for key in keys]
    try:
        while not all(_t.done() for _t in _tasks):
            await asyncio.sleep(0.01)
    except asyncio.CancelledError:  # cancelled by the caller: its calls are stopped too (not its mistake)
        for _t in _tasks:
            _t.cancel()
        await asyncio.gather(*_tasks, return_exceptions=True)
        raise
    values = [_t.result() for _t in _tasks]
    return dict(zip(keys, values, strict=True))
