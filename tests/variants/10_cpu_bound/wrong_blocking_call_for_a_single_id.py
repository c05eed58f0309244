"""Wrong: for a single id it calls fetch_report directly, on the event loop, which freezes while it blocks."""
# fails only: test_every_blocking_call_runs_at_the_same_time[one_id]

import asyncio


async def fetch_reports(fetch_report, report_ids):
    if len(report_ids) == 1:
        return [fetch_report(report_ids[0])]
    return list(await asyncio.gather(*(asyncio.to_thread(fetch_report, rid) for rid in report_ids)))


async def count_primes_in_pool(pool, count_primes, limits):
    loop = asyncio.get_running_loop()
    return list(await asyncio.gather(*(loop.run_in_executor(pool, count_primes, n) for n in limits)))
