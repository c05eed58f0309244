"""Wrong: fetch_reports runs up to three reports in ONE worker thread, one after another, and gives each its
own thread only from four on (learner trial AA)."""
# fails only: test_every_blocking_call_runs_at_the_same_time[two_ids], test_a_list_of_any_size_has_all_its_blocking_calls_run_at_the_same_time
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio


# Task 1: blocking calls in threads
async def fetch_reports(fetch_report, report_ids):
    """Call the blocking `fetch_report(report_id)` for every id (repeats included) at the same
    time, each in a worker thread; return the reports in the order of `report_ids`.
    If the caller cancels fetch_reports, let the cancel through, so that it ends cancelled
    with none of the tasks it started still running.
    """
    if len(report_ids) <= 3:
        return await asyncio.to_thread(lambda: [fetch_report(rid) for rid in report_ids])
    return list(await asyncio.gather(*(asyncio.to_thread(fetch_report, rid) for rid in report_ids)))


# Task 2: heavy computing in other processes
async def count_primes_in_pool(pool, count_primes, limits):
    """Run `count_primes(limit)` in the process pool `pool` for every limit (repeats included) at
    the same time; return the counts in the order of `limits`. The pool stays open.
    Wait for the counts with `await`, not by checking on the jobs again and again.
    """
    loop = asyncio.get_running_loop()
    return list(await asyncio.gather(*(loop.run_in_executor(pool, count_primes, n) for n in limits)))
