"""Computes the prime counts right on the event loop instead of in the pool."""
# fails only: test_every_limit_is_counted_at_the_same_time_in_a_bigger_pool[as_many_as_workers], test_every_limit_is_counted_at_the_same_time_in_a_bigger_pool[two_limits], test_the_call_waits_for_the_pool_without_checking_again_and_again, test_the_counting_runs_in_the_pool_processes_at_the_same_time, test_any_number_of_limits_has_all_its_counts_run_at_the_same_time
# fails at times: test_a_limit_listed_twice_is_counted_twice
# (its small limits computed on the loop freeze it about 0.1 s, the stall limit's edge: a helper's self-check saw it)
# ruff: noqa: E501 (the line above names long tests, and the self-check reads it as one line)

import asyncio


async def fetch_reports(fetch_report, report_ids):
    return list(await asyncio.gather(*(asyncio.to_thread(fetch_report, rid) for rid in report_ids)))


async def count_primes_in_pool(pool, count_primes, limits):
    return [count_primes(n) for n in limits]
