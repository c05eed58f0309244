"""Mistake: the counts are collected with asyncio.as_completed, so they come back in finishing order."""

import asyncio


async def fetch_reports(fetch_report, report_ids):
    return list(await asyncio.gather(*(asyncio.to_thread(fetch_report, rid) for rid in report_ids)))


async def count_primes_in_pool(pool, count_primes, limits):
    loop = asyncio.get_running_loop()
    jobs = [loop.run_in_executor(pool, count_primes, n) for n in limits]
    return [await job for job in asyncio.as_completed(jobs)]
