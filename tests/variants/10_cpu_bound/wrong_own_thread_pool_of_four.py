"""Wrong: the blocking calls go to a thread pool of its own with max_workers=4, so from the
fifth id on they wait for a free thread instead of all running at the same time."""
# fails only: test_every_blocking_call_runs_at_the_same_time[five_or_more_ids], test_a_list_of_any_size_has_all_its_blocking_calls_run_at_the_same_time
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio
from concurrent.futures import ThreadPoolExecutor


async def fetch_reports(fetch_report, report_ids):
    loop = asyncio.get_running_loop()
    threads = ThreadPoolExecutor(max_workers=4)
    try:
        return list(
            await asyncio.gather(*(loop.run_in_executor(threads, fetch_report, rid) for rid in report_ids))
        )
    finally:
        # Without waiting: a caller's cancel leaves calls still running in the threads, and
        # waiting for them here would freeze the loop. They end on their own.
        threads.shutdown(wait=False)


async def count_primes_in_pool(pool, count_primes, limits):
    loop = asyncio.get_running_loop()
    return list(await asyncio.gather(*(loop.run_in_executor(pool, count_primes, n) for n in limits)))
