"""Correct: the blocking calls go to a ThreadPoolExecutor of its own, closed when done."""

import asyncio
from concurrent.futures import ThreadPoolExecutor


async def fetch_reports(fetch_report, report_ids):
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(max_workers=len(report_ids) or 1) as threads:
        return list(
            await asyncio.gather(*(loop.run_in_executor(threads, fetch_report, rid) for rid in report_ids))
        )


async def count_primes_in_pool(pool, count_primes, limits):
    loop = asyncio.get_running_loop()
    return list(await asyncio.gather(*(loop.run_in_executor(pool, count_primes, n) for n in limits)))
