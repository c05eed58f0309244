"""Correct: the blocking pool.map runs in a thread (to_thread), so the loop waits without blocking."""

import asyncio


async def fetch_reports(fetch_report, report_ids):
    loop = asyncio.get_running_loop()
    return list(await asyncio.gather(*(loop.run_in_executor(None, fetch_report, rid) for rid in report_ids)))


async def count_primes_in_pool(pool, count_primes, limits):
    return await asyncio.to_thread(lambda: list(pool.map(count_primes, limits)))
