"""Wraps the caller's pool in `with pool:`, which shuts it down on the way out."""
# fails only: test_the_pool_is_left_open_for_the_caller, test_any_number_of_limits_has_all_its_counts_run_at_the_same_time
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio


async def fetch_reports(fetch_report, report_ids):
    return list(await asyncio.gather(*(asyncio.to_thread(fetch_report, rid) for rid in report_ids)))


async def count_primes_in_pool(pool, count_primes, limits):
    loop = asyncio.get_running_loop()
    with pool:
        return list(await asyncio.gather(*(loop.run_in_executor(pool, count_primes, n) for n in limits)))
