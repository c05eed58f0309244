"""Wrong: hands the jobs to the pool two at a time, each pair after the one before, so a pool
with more than two processes leaves the others idle."""
# fails only: test_every_limit_is_counted_at_the_same_time_in_a_bigger_pool[as_many_as_workers], test_any_number_of_limits_has_all_its_counts_run_at_the_same_time
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio


async def fetch_reports(fetch_report, report_ids):
    return list(await asyncio.gather(*(asyncio.to_thread(fetch_report, rid) for rid in report_ids)))


async def count_primes_in_pool(pool, count_primes, limits):
    loop = asyncio.get_running_loop()
    counts = []
    for start in range(0, len(limits), 2):
        pair = limits[start : start + 2]
        counts += await asyncio.gather(*(loop.run_in_executor(pool, count_primes, n) for n in pair))
    return counts
