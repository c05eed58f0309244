"""Wrong: when the limit is up it waits 0.05 s more for the call ("a second chance") before giving
up: a call up to 0.05 s too slow is kept."""

# fails only: test_a_call_just_slower_than_the_limit_gives_none, test_a_call_just_slower_than_the_limit_is_none
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio
import contextlib


async def _stop(call):
    call.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await call


async def fetch_or_none(fetch, key, limit):
    call = asyncio.ensure_future(fetch(key))
    try:
        done, _ = await asyncio.wait({call}, timeout=limit)
        if not done:
            # a second chance, in case it is nearly there
            done, _ = await asyncio.wait({call}, timeout=0.05)
        if done:
            return call.result()
        await _stop(call)
        return None
    except asyncio.CancelledError:
        await _stop(call)
        raise


async def fetch_all_within(fetch, keys, limit):
    values = await asyncio.gather(*(fetch_or_none(fetch, key, limit) for key in keys))
    return dict(zip(keys, values, strict=True))
