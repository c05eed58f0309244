"""Correct: the async functions run under a heartbeat task that logs every 0.1 s, cancelled and
awaited at the end; the waiting itself is on the pool's jobs. Its wake-ups are the heartbeat's,
not a poll of the jobs."""

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


async def fetch_reports(fetch_report, report_ids):
    async with heartbeat("fetch_reports"):
        return list(await asyncio.gather(*(asyncio.to_thread(fetch_report, r) for r in report_ids)))


async def count_primes_in_pool(pool, count_primes, limits):
    loop = asyncio.get_running_loop()
    async with heartbeat("count_primes"):
        return list(await asyncio.gather(*(loop.run_in_executor(pool, count_primes, n) for n in limits)))
