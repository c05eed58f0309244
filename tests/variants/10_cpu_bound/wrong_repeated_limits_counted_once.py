"""Mistake: a repeated id or limit is run once and its answer copied, in both tasks."""

import asyncio


async def fetch_reports(fetch_report, report_ids):
    unique = list(dict.fromkeys(report_ids))
    reports = await asyncio.gather(*(asyncio.to_thread(fetch_report, rid) for rid in unique))
    by_id = dict(zip(unique, reports, strict=True))
    return [by_id[rid] for rid in report_ids]


async def count_primes_in_pool(pool, count_primes, limits):
    loop = asyncio.get_running_loop()
    unique = sorted(set(limits))
    counts = await asyncio.gather(*(loop.run_in_executor(pool, count_primes, n) for n in unique))
    by_limit = dict(zip(unique, counts, strict=True))
    return [by_limit[n] for n in limits]
