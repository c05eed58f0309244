"""Sends the computing to threads: the loop stays mostly free, but the GIL runs one thread at a time."""
# fails only: test_every_limit_is_counted_at_the_same_time_in_a_bigger_pool[as_many_as_workers], test_every_limit_is_counted_at_the_same_time_in_a_bigger_pool[two_limits], test_the_counting_runs_in_the_pool_processes_at_the_same_time, test_any_number_of_limits_has_all_its_counts_run_at_the_same_time
# ruff: noqa: E501 (the line above names long tests, and the self-check reads it as one line)
# fails at times: test_the_pool_is_left_open_for_the_caller
# (its cancel case: cancelled while the counting runs in threads, the gather's to_thread task is at
# times still running as count_primes_in_pool ends, and the loop guard says so: a leak of its own)

import asyncio


async def fetch_reports(fetch_report, report_ids):
    return list(await asyncio.gather(*(asyncio.to_thread(fetch_report, rid) for rid in report_ids)))


async def count_primes_in_pool(pool, count_primes, limits):
    return list(await asyncio.gather(*(asyncio.to_thread(count_primes, n) for n in limits)))
