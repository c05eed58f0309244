"""Correct: both functions run under a heartbeat task that logs every 0.1 s, cancelled and awaited at
the end; the waiting itself is a gather, and the calls cancelled after a failure are waited for
with a gather too. Its wake-ups while they stop are the heartbeat's, not a poll."""

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


async def fetch_all_settled(fetch, ids):
    async with heartbeat("settled"):
        results = await asyncio.gather(*(fetch(i) for i in ids), return_exceptions=True)
    successes, failures = {}, {}
    for i, r in zip(ids, results, strict=True):
        if isinstance(r, Exception):
            failures[i] = r
        else:
            successes[i] = r
    return successes, failures


async def fetch_all_or_nothing(fetch, ids):
    async with heartbeat("all_or_nothing"):
        tasks = [asyncio.create_task(fetch(i)) for i in ids]
        try:
            return await asyncio.gather(*tasks)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
