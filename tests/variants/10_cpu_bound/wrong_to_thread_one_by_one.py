"""Awaits each to_thread call before starting the next: the loop is free, but the calls run one by one."""

import asyncio


async def fetch_reports(fetch_report, report_ids):
    return [await asyncio.to_thread(fetch_report, rid) for rid in report_ids]


async def count_primes_in_pool(pool, count_primes, limits):
    loop = asyncio.get_running_loop()
    return list(await asyncio.gather(*(loop.run_in_executor(pool, count_primes, n) for n in limits)))
