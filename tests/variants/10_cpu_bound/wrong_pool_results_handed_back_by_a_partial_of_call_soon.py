"""Wrong: count_primes_in_pool copies each job's result into an asyncio future from the concurrent future's
done callback, `functools.partial(loop.call_soon, copy)` (not `call_soon_threadsafe`): the pool's thread
runs it, so the loop is not woken and a count waits until something else wakes it. No line of the
learner's file is on that thread's stack (a red team's; it passed every test in judge mode)."""
# fails only: test_every_limit_is_counted_at_the_same_time_in_a_bigger_pool[as_many_as_workers], test_every_limit_is_counted_at_the_same_time_in_a_bigger_pool[two_limits], test_the_counting_runs_in_the_pool_processes_at_the_same_time, test_any_number_of_limits_has_all_its_counts_run_at_the_same_time
# ruff: noqa: E501 (the line above names every test it fails)
# fails at times: test_a_limit_listed_twice_is_counted_twice, test_a_second_call_counts_every_limit_afresh_in_the_pool_it_is_given, test_counts_come_back_in_the_order_of_the_limits, test_the_call_waits_for_the_pool_without_checking_again_and_again, test_the_pool_is_left_open_for_the_caller
# (a job already done when its callback is added has it run at once, in the loop's own thread: with small
# limits that happens at times, and nothing crosses from another thread; the CI of 8d12c07 saw it once)
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio
import functools


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

    def submit(n):
        future = loop.create_future()

        def copy(done):
            if future.done():
                return
            if done.cancelled():
                future.cancel()
            elif done.exception() is not None:
                future.set_exception(done.exception())
            else:
                future.set_result(done.result())

        pool.submit(count_primes, n).add_done_callback(functools.partial(loop.call_soon, copy))
        return future

    return list(await asyncio.gather(*(submit(n) for n in limits)))
