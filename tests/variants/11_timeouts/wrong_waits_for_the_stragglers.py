"""Wrong: after asyncio.wait(timeout=...) gives None for the pending calls, it waits for them to
finish instead of cancelling them."""
# fails only: test_the_whole_batch_ends_when_the_limit_is_up, test_slow_calls_are_stopped_when_the_limit_is_up

import asyncio


async def fetch_or_none(fetch, key, limit):
    try:
        async with asyncio.timeout(limit):
            return await fetch(key)
    except TimeoutError:
        return None


async def fetch_all_within(fetch, keys, limit):
    tasks = {key: asyncio.create_task(fetch(key)) for key in keys}
    if not tasks:
        return {}
    try:
        done, pending = await asyncio.wait(tasks.values(), timeout=limit)
    except asyncio.CancelledError:  # cancelled by the caller: its calls are stopped too (not its mistake)
        for t in tasks.values():
            t.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)
        raise
    # let the late ones finish cleanly instead of killing them mid-request
    await asyncio.gather(*pending, return_exceptions=True)
    return {key: (t.result() if t in done else None) for key, t in tasks.items()}
