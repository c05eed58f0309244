"""Correct: the functions run under a heartbeat task that logs every 0.1 s, cancelled and awaited at
the end; each call has its own timeout of `limit`, and the waiting itself is a gather. The
heartbeat's wake-ups are no poll, and its timer no limit of its own."""

import asyncio
import contextlib
import logging

_log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def heartbeat(label, every=0.1):
    async def beat():
        while True:
            await asyncio.sleep(every)
            _log.debug("%s: still working", label)

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        await asyncio.wait([task])


async def fetch_or_none(fetch, key, limit):
    async with heartbeat("fetch_or_none"):
        try:
            async with asyncio.timeout(limit):
                return await fetch(key)
        except TimeoutError:
            return None


async def fetch_all_within(fetch, keys, limit):
    async def one(key):
        try:
            async with asyncio.timeout(limit):
                return await fetch(key)
        except TimeoutError:
            return None

    async with heartbeat("fetch_all_within"):
        values = await asyncio.gather(*(one(k) for k in keys))
    return dict(zip(keys, values, strict=True))
