"""Uses the pool but awaits each job before submitting the next, so only one process works."""
# fails only: test_every_limit_is_counted_at_the_same_time_in_a_bigger_pool[as_many_as_workers], test_every_limit_is_counted_at_the_same_time_in_a_bigger_pool[two_limits], test_the_counting_runs_in_the_pool_processes_at_the_same_time, test_any_number_of_limits_has_all_its_counts_run_at_the_same_time
# ruff: noqa: E501 (the line above names long tests, and the self-check reads it as one line)

import asyncio


async def fetch_reports(fetch_report, report_ids):
    return list(await asyncio.gather(*(asyncio.to_thread(fetch_report, rid) for rid in report_ids)))


async def count_primes_in_pool(pool, count_primes, limits):
    loop = asyncio.get_running_loop()
    return [await loop.run_in_executor(pool, count_primes, n) for n in limits]
