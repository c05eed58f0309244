"""Correct: the async functions run beside a heartbeat THREAD that logs every 50 ms
(`while not stop.wait(0.05)`), stopped at the end (the Event set) and joined off the loop
(`await asyncio.to_thread(thread.join)`); the waiting itself is on the jobs, awaited. Its timed
waits are a heartbeat's, not a poll of the jobs: what the code waits for wakes it, not them."""

import asyncio
import contextlib
import logging
import threading

_log = logging.getLogger(__name__)


def _beat(stop, label):
    while not stop.wait(0.05):
        _log.debug("%s: still working", label)


@contextlib.asynccontextmanager
async def heartbeat(label):
    stop = threading.Event()
    thread = threading.Thread(target=_beat, args=(stop, label), daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        await asyncio.to_thread(thread.join)


async def fetch_reports(fetch_report, report_ids):
    async with heartbeat("fetch_reports"):
        return list(await asyncio.gather(*(asyncio.to_thread(fetch_report, r) for r in report_ids)))


async def count_primes_in_pool(pool, count_primes, limits):
    loop = asyncio.get_running_loop()
    async with heartbeat("count_primes"):
        return list(await asyncio.gather(*(loop.run_in_executor(pool, count_primes, n) for n in limits)))
