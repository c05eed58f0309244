"""Correct: fetch_reports awaits its threads in a wait loop with a 1 s timeout that logs;
count_primes_in_pool warns after 5 s (`loop.call_later`), cancelled in finally.
"""

import asyncio
import logging

log = logging.getLogger(__name__)


async def fetch_reports(fetch_report, report_ids):
    tasks = [asyncio.create_task(asyncio.to_thread(fetch_report, rid)) for rid in report_ids]
    try:
        pending = set(tasks)
        while pending:
            done, pending = await asyncio.wait(pending, timeout=1.0, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                if not task.cancelled() and task.exception() is not None:
                    raise task.exception()
            if pending:
                log.info("fetch_reports: %d of %d reports still coming", len(pending), len(tasks))
        return [task.result() for task in tasks]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def count_primes_in_pool(pool, count_primes, limits):
    loop = asyncio.get_running_loop()
    handle = loop.call_later(5, log.warning, "count_primes_in_pool: still counting")
    try:
        return list(await asyncio.gather(*(loop.run_in_executor(pool, count_primes, n) for n in limits)))
    finally:
        handle.cancel()
