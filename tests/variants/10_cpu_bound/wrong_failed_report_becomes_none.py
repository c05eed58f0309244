"""Wrong: gathers with return_exceptions=True and puts None in place of a report whose fetch_report
raised, so the error never reaches the caller."""
# fails only: test_an_error_from_fetch_report_reaches_the_caller

import asyncio


async def fetch_reports(fetch_report, report_ids):
    results = await asyncio.gather(
        *(asyncio.to_thread(fetch_report, rid) for rid in report_ids), return_exceptions=True
    )
    return [None if isinstance(result, Exception) else result for result in results]


async def count_primes_in_pool(pool, count_primes, limits):
    loop = asyncio.get_running_loop()
    return list(await asyncio.gather(*(loop.run_in_executor(pool, count_primes, n) for n in limits)))
