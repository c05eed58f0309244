"""Correct: run_in_executor(None, ...) for the blocking calls, pool.submit + wrap_future for computing."""

import asyncio


async def fetch_reports(fetch_report, report_ids):
    loop = asyncio.get_running_loop()
    futures = [loop.run_in_executor(None, fetch_report, rid) for rid in report_ids]
    return [await future for future in futures]


async def count_primes_in_pool(pool, count_primes, limits):
    futures = [asyncio.wrap_future(pool.submit(count_primes, n)) for n in limits]
    return list(await asyncio.gather(*futures))
