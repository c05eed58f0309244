"""fetch_all_within starts each call under its own timeout, then polls the tasks every 20 ms with a
plain `loop.call_later` instead of awaiting them: a call_later no longer than the given limit was
spared by the probe as that limit (red team H)."""
# fails only: test_every_call_starts_at_once

import asyncio


async def _tick(seconds=0.02):
    loop = asyncio.get_running_loop()
    fut = loop.create_future()
    loop.call_later(seconds, lambda: fut.done() or fut.set_result(None))
    await fut


async def _until_done(*tasks):
    while not all(t.done() for t in tasks):  # check again and again
        await _tick()


async def fetch_or_none(fetch, key, limit):
    try:
        async with asyncio.timeout(limit):
            return await fetch(key)
    except TimeoutError:
        return None


async def fetch_all_within(fetch, keys, limit):
    tasks = [asyncio.create_task(fetch_or_none(fetch, k, limit)) for k in keys]
    try:
        while not all(t.done() for t in tasks):
            await _tick()
            for t in tasks:
                if t.done() and not t.cancelled() and t.exception() is not None:
                    raise t.exception()
        return {k: t.result() for k, t in zip(keys, tasks, strict=True)}
    finally:
        for t in tasks:
            t.cancel()
        while not all(t.done() for t in tasks):
            try:
                await _tick()
            except asyncio.CancelledError:
                await _until_done(*tasks)
                raise
