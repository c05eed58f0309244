"""Wrong: a call that ended with an error is given None, as if it had timed out (it reads
task.exception() instead of letting task.result() raise)."""
# fails only: test_an_error_from_a_call_reaches_the_caller[lookup_error], test_an_error_from_a_call_reaches_the_caller[os_error]
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio


async def fetch_or_none(fetch, key, limit):
    try:
        async with asyncio.timeout(limit):
            return await fetch(key)
    except TimeoutError:
        return None


async def fetch_all_within(fetch, keys, limit):
    tasks = [asyncio.create_task(fetch(key)) for key in keys]
    if not tasks:
        return {}
    try:
        done, pending = await asyncio.wait(tasks, timeout=limit)
    except asyncio.CancelledError:  # cancelled by the caller: its calls are stopped too (not its mistake)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    for t in pending:
        t.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    result = {}
    for key, t in zip(keys, tasks, strict=True):
        if t in done and t.exception() is None:
            result[key] = t.result()
        else:
            result[key] = None
    return result
