"""Uses pool.map, which waits for the results right there and freezes the loop meanwhile."""
# fails only: test_the_counting_runs_in_the_pool_processes_at_the_same_time

import asyncio


async def fetch_reports(fetch_report, report_ids):
    return list(await asyncio.gather(*(asyncio.to_thread(fetch_report, rid) for rid in report_ids)))


async def count_primes_in_pool(pool, count_primes, limits):
    return list(pool.map(count_primes, limits))
