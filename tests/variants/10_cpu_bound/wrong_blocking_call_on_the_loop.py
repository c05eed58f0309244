"""Calls the blocking function directly from async code, so the loop freezes for every call."""

import asyncio


async def fetch_reports(fetch_report, report_ids):
    return [fetch_report(rid) for rid in report_ids]


async def count_primes_in_pool(pool, count_primes, limits):
    loop = asyncio.get_running_loop()
    return list(await asyncio.gather(*(loop.run_in_executor(pool, count_primes, n) for n in limits)))
