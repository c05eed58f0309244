"""Mistake: count_primes_in_pool shuts the caller's pool down when a count raises, before the error
goes on ("the pool is broken anyway"): the pool belongs to the caller, whatever one job did."""
# fails only: test_the_pool_is_left_open_for_the_caller

import asyncio


async def fetch_reports(fetch_report, report_ids):
    return list(await asyncio.gather(*(asyncio.to_thread(fetch_report, rid) for rid in report_ids)))


async def count_primes_in_pool(pool, count_primes, limits):
    loop = asyncio.get_running_loop()
    try:
        return list(await asyncio.gather(*(loop.run_in_executor(pool, count_primes, n) for n in limits)))
    except Exception:
        pool.shutdown(wait=False)
        raise
