"""Wrong: count_primes_in_pool awaits the jobs one after another in the pool when it has two limits or fewer,
and gathers them only from three on (learner trial AA)."""
# fails only: test_every_limit_is_counted_at_the_same_time_in_a_bigger_pool[two_limits], test_any_number_of_limits_has_all_its_counts_run_at_the_same_time
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio


# Task 1: blocking calls in threads
async def fetch_reports(fetch_report, report_ids):
    """Call the blocking `fetch_report(report_id)` for every id (repeats included) at the same
    time, each in a worker thread; return the reports in the order of `report_ids`.
    If the caller cancels fetch_reports, let the cancel through, so that it ends cancelled
    with none of the tasks it started still running.
    """
    return list(await asyncio.gather(*(asyncio.to_thread(fetch_report, rid) for rid in report_ids)))


# Task 2: heavy computing in other processes
async def count_primes_in_pool(pool, count_primes, limits):
    """Run `count_primes(limit)` in the process pool `pool` for every limit (repeats included) at
    the same time; return the counts in the order of `limits`. The pool stays open.
    Wait for the counts with `await`, not by checking on the jobs again and again.
    """
    loop = asyncio.get_running_loop()
    if len(limits) <= 2:
        return [await loop.run_in_executor(pool, count_primes, n) for n in limits]
    return list(await asyncio.gather(*(loop.run_in_executor(pool, count_primes, n) for n in limits)))
