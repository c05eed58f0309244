"""Mistake: count_primes_in_pool shuts the caller's pool down (shutdown(cancel_futures=True)) when it
is cancelled, to stop its jobs: the pool belongs to the caller, who can then hand it no new job."""
# fails only: test_the_pool_is_left_open_for_the_caller

import asyncio


async def fetch_reports(fetch_report, report_ids):
    return list(await asyncio.gather(*(asyncio.to_thread(fetch_report, rid) for rid in report_ids)))


async def count_primes_in_pool(pool, count_primes, limits):
    loop = asyncio.get_running_loop()
    try:
        return list(await asyncio.gather(*(loop.run_in_executor(pool, count_primes, n) for n in limits)))
    except asyncio.CancelledError:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
