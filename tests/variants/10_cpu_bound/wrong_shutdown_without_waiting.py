"""Submits every job, then shuts the caller's pool with shutdown(wait=False) before awaiting them."""
# fails only: test_the_pool_is_left_open_for_the_caller, test_any_number_of_limits_has_all_its_counts_run_at_the_same_time
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio


async def fetch_reports(fetch_report, report_ids):
    return list(await asyncio.gather(*(asyncio.to_thread(fetch_report, rid) for rid in report_ids)))


async def count_primes_in_pool(pool, count_primes, limits):
    futures = [asyncio.wrap_future(pool.submit(count_primes, n)) for n in limits]
    pool.shutdown(wait=False)  # "no more jobs from me": but the pool is the caller's
    return list(await asyncio.gather(*futures))
