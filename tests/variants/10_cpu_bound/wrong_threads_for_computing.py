"""Sends the computing to threads: the loop stays mostly free, but the GIL runs one thread at a time."""

import asyncio


async def fetch_reports(fetch_report, report_ids):
    return list(await asyncio.gather(*(asyncio.to_thread(fetch_report, rid) for rid in report_ids)))


async def count_primes_in_pool(pool, count_primes, limits):
    return list(await asyncio.gather(*(asyncio.to_thread(count_primes, n) for n in limits)))
