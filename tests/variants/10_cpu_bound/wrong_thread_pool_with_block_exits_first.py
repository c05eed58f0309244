"""Mistake: a `with ThreadPoolExecutor()` block ends before the await; its shutdown freezes the loop."""

import asyncio
from concurrent.futures import ThreadPoolExecutor


async def fetch_reports(fetch_report, report_ids):
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(max_workers=max(1, len(report_ids))) as threads:
        futures = [loop.run_in_executor(threads, fetch_report, rid) for rid in report_ids]
    # leaving the `with` waits for the threads (shutdown(wait=True)) and freezes the loop
    return list(await asyncio.gather(*futures))


async def count_primes_in_pool(pool, count_primes, limits):
    loop = asyncio.get_running_loop()
    return list(await asyncio.gather(*(loop.run_in_executor(pool, count_primes, n) for n in limits)))
