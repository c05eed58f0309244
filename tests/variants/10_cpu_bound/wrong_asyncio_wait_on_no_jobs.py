"""Wrong: fetch_reports and count_primes_in_pool wait with asyncio.wait, which raises ValueError for an
empty set: no ids (or no limits) crash instead of giving [] (a red team's answer)."""
# fails only: test_no_ids_give_an_empty_list, test_no_limits_give_an_empty_list

import asyncio


# Task 1: blocking calls in threads
async def fetch_reports(fetch_report, report_ids):
    """Call the blocking `fetch_report(report_id)` for every id (repeats included) at the same
    time, each in a worker thread; return the reports in the order of `report_ids`.
    """
    tasks = [asyncio.ensure_future(asyncio.to_thread(fetch_report, rid)) for rid in report_ids]
    try:
        await asyncio.wait(tasks)
    finally:
        for t in tasks:
            t.cancel()
    return [t.result() for t in tasks]


# Task 2: heavy computing in other processes
async def count_primes_in_pool(pool, count_primes, limits):
    """Run `count_primes(limit)` in the process pool `pool` for every limit (repeats included) at
    the same time; return the counts in the order of `limits`. The pool stays open.
    Wait for the counts with `await`, not by checking on the jobs again and again.
    """
    loop = asyncio.get_running_loop()
    futs = [loop.run_in_executor(pool, count_primes, n) for n in limits]
    try:
        await asyncio.wait(futs)
    finally:
        for f in futs:
            f.cancel()
    return [f.result() for f in futs]
