"""Wrong: fetch_reports also checks the reports in a pool of its own (`executor.submit`) and never
reads the future: the check fails, and its error stays in that future, told to nobody."""
# fails only: test_a_second_call_fetches_every_report_afresh, test_an_id_listed_twice_is_fetched_twice, test_every_blocking_call_runs_at_the_same_time[five_or_more_ids], test_every_blocking_call_runs_at_the_same_time[one_id], test_every_blocking_call_runs_at_the_same_time[two_ids], test_no_ids_give_an_empty_list, test_reports_come_back_in_the_order_of_the_ids, test_a_list_of_any_size_has_all_its_blocking_calls_run_at_the_same_time
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio
from concurrent.futures import ThreadPoolExecutor


def _check(reports):
    raise ValueError(f"the check of {len(reports)} reports failed")


# Task 1: blocking calls in threads
async def fetch_reports(fetch_report, report_ids):
    """Call the blocking `fetch_report(report_id)` for every id (repeats included) at the same
    time, each in a worker thread; return the reports in the order of `report_ids`.
    """
    reports = list(await asyncio.gather(*(asyncio.to_thread(fetch_report, rid) for rid in report_ids)))
    checks = ThreadPoolExecutor(1)
    checks.submit(_check, reports)
    checks.shutdown(wait=False)
    return reports


# Task 2: heavy computing in other processes
async def count_primes_in_pool(pool, count_primes, limits):
    """Run `count_primes(limit)` in the process pool `pool` for every limit (repeats included) at
    the same time; return the counts in the order of `limits`. The pool stays open.
    Wait for the counts with `await`, not by checking on the jobs again and again.
    """
    loop = asyncio.get_running_loop()
    return list(await asyncio.gather(*(loop.run_in_executor(pool, count_primes, n) for n in limits)))
