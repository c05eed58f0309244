"""Wrong: count_primes_in_pool keeps every count in a module-level dict keyed by limit: a second
call with the same limits runs count_primes for none of them, even with another count_primes (a
red team's answer); the docstring: run count_primes(limit) in the pool for every limit."""
# fails only: test_a_second_call_counts_every_limit_afresh_in_the_pool_it_is_given

import asyncio

_counts = {}


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
    loop = asyncio.get_running_loop()

    async def one(limit):
        if limit not in _counts:
            _counts[limit] = await loop.run_in_executor(pool, count_primes, limit)
        return _counts[limit]

    return list(await asyncio.gather(*(one(limit) for limit in limits)))
