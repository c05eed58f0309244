"""Wrong: catches its caller's cancellation and returns an empty list, as if the call had succeeded."""
# fails only: test_a_cancelled_call_ends_cancelled

import asyncio


async def fetch_reports(fetch_report, report_ids):
    try:
        return list(await asyncio.gather(*(asyncio.to_thread(fetch_report, rid) for rid in report_ids)))
    except asyncio.CancelledError:
        return []


async def count_primes_in_pool(pool, count_primes, limits):
    loop = asyncio.get_running_loop()
    return list(await asyncio.gather(*(loop.run_in_executor(pool, count_primes, n) for n in limits)))
