"""count_primes_in_pool submits every count to the pool (they run at the same time), then reads
each with `future.result()`: a blocking wait, in async code, that freezes the event loop until the
count is done; no other task runs meanwhile. Await them instead (`asyncio.wrap_future`, or
`loop.run_in_executor`, whose futures are awaited)."""
# fails only: test_a_limit_listed_twice_is_counted_twice, test_a_second_call_counts_every_limit_afresh_in_the_pool_it_is_given, test_counts_come_back_in_the_order_of_the_limits, test_every_limit_is_counted_at_the_same_time_in_a_bigger_pool[as_many_as_workers], test_every_limit_is_counted_at_the_same_time_in_a_bigger_pool[two_limits], test_the_call_waits_for_the_pool_without_checking_again_and_again, test_the_counting_runs_in_the_pool_processes_at_the_same_time, test_the_pool_is_left_open_for_the_caller, test_any_number_of_limits_has_all_its_counts_run_at_the_same_time
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio


async def fetch_reports(fetch_report, report_ids):
    return list(await asyncio.gather(*(asyncio.to_thread(fetch_report, rid) for rid in report_ids)))


async def count_primes_in_pool(pool, count_primes, limits):
    futures = [pool.submit(count_primes, n) for n in limits]
    return [future.result() for future in futures]
