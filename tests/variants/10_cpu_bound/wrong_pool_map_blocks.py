"""Uses pool.map, which waits for the results right there and freezes the loop meanwhile."""

import asyncio


async def fetch_reports(fetch_report, report_ids):
    return list(await asyncio.gather(*(asyncio.to_thread(fetch_report, rid) for rid in report_ids)))


async def count_primes_in_pool(pool, count_primes, limits):
    return list(pool.map(count_primes, limits))
