"""Wrong: a `threading.Timer(limit + 0.05, ...)` cancels the call from a thread: a grace of 0.05 s,
so a call up to 0.05 s too slow is kept."""

# fails only: test_a_call_just_slower_than_the_limit_gives_none, test_a_call_just_slower_than_the_limit_is_none
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio
import threading


async def fetch_or_none(fetch, key, limit):
    loop = asyncio.get_running_loop()
    call = asyncio.ensure_future(fetch(key))
    timed_out = []

    def up():
        timed_out.append(True)
        loop.call_soon_threadsafe(call.cancel)

    timer = threading.Timer(limit + 0.05, up)
    timer.start()
    try:
        return await call
    except asyncio.CancelledError:
        if timed_out and not asyncio.current_task().cancelling():
            return None
        raise
    finally:
        timer.cancel()
        call.cancel()


async def fetch_all_within(fetch, keys, limit):
    values = await asyncio.gather(*(fetch_or_none(fetch, key, limit) for key in keys))
    return dict(zip(keys, values, strict=True))
