"""Wrong: count_primes_in_pool keeps the first pool it is given in the module and sends every
later call's jobs there, whatever pool that call was given (a red team's answer): the docstring
says to run the counts in `pool`. The ticking second call of the pool-processes test is given a
pool of its own, which never gets a job, so that test fails too (as a frozen loop)."""
# fails only: test_the_counting_runs_in_the_pool_processes_at_the_same_time, test_a_second_call_counts_every_limit_afresh_in_the_pool_it_is_given
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio

_pools = []


# Task 1: blocking calls in threads
async def fetch_reports(fetch_report, report_ids):
    """Call the blocking `fetch_report(report_id)` for every id (repeats included) at the same
    time, each in a worker thread; return the reports in the order of `report_ids`.
    """
    return list(await asyncio.gather(*(asyncio.to_thread(fetch_report, rid) for rid in report_ids)))


# Task 2: heavy computing in other processes
async def count_primes_in_pool(pool, count_primes, limits):
    """Run `count_primes(limit)` in the process pool `pool` for every limit (repeats included) at
    the same time; return the counts in the order of `limits`. The pool stays open.
    Wait for the counts with `await`, not by checking on the jobs again and again.
    """
    if not _pools:
        _pools.append(pool)
    loop = asyncio.get_running_loop()
    return list(await asyncio.gather(*(loop.run_in_executor(_pools[0], count_primes, n) for n in limits)))
