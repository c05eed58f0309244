"""Wrong: checks on the call every 5 ms and reads the clock against the limit plus a grace of
0.05 s: a poll, and a call up to 0.05 s too slow is kept."""

# fails only: test_a_call_inside_the_limit_is_awaited_not_checked_on, test_every_call_starts_at_once

import asyncio
import contextlib


async def fetch_or_none(fetch, key, limit):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit + 0.05
    call = asyncio.create_task(fetch(key))
    try:
        while not call.done():
            if loop.time() >= deadline:
                call.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await call
                return None
            await asyncio.sleep(0.005)
        return call.result()
    finally:
        if not call.done():
            call.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await call


async def fetch_all_within(fetch, keys, limit):
    values = await asyncio.gather(*(fetch_or_none(fetch, key, limit) for key in keys))
    return dict(zip(keys, values, strict=True))
