"""Wrong: fetch_reports runs each blocking call in a thread of its own and hands the result back with
`loop.call_later(0, ...)` (not `call_soon_threadsafe`): a timer set from another thread does not wake the
loop either, and a result waits until something else wakes it (a red team's; it passed every test in
judge mode)."""
# fails only: test_a_cancelled_call_ends_cancelled, test_a_second_call_fetches_every_report_afresh, test_an_error_from_fetch_report_reaches_the_caller, test_an_id_listed_twice_is_fetched_twice, test_every_blocking_call_runs_at_the_same_time[five_or_more_ids], test_every_blocking_call_runs_at_the_same_time[one_id], test_every_blocking_call_runs_at_the_same_time[two_ids], test_reports_come_back_in_the_order_of_the_ids, test_a_list_of_any_size_has_all_its_blocking_calls_run_at_the_same_time
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio
import threading


# Task 1: blocking calls in threads
async def fetch_reports(fetch_report, report_ids):
    """Call the blocking `fetch_report(report_id)` for every id (repeats included) at the same
    time, each in a worker thread; return the reports in the order of `report_ids`.
    If the caller cancels fetch_reports, let the cancel through, so that it ends cancelled
    with none of the tasks it started still running.
    """
    loop = asyncio.get_running_loop()

    def in_thread(rid):
        future = loop.create_future()

        def settle(outcome, error):
            if future.done():
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(outcome)

        def work():
            try:
                outcome = fetch_report(rid)
            except BaseException as error:
                loop.call_later(0, settle, None, error)
            else:
                loop.call_later(0, settle, outcome, None)

        threading.Thread(target=work, daemon=True).start()
        return future

    return list(await asyncio.gather(*(in_thread(rid) for rid in report_ids)))


# Task 2: heavy computing in other processes
async def count_primes_in_pool(pool, count_primes, limits):
    """Run `count_primes(limit)` in the process pool `pool` for every limit (repeats included) at
    the same time; return the counts in the order of `limits`. The pool stays open.
    Wait for the counts with `await`, not by checking on the jobs again and again.
    """
    loop = asyncio.get_running_loop()
    return list(await asyncio.gather(*(loop.run_in_executor(pool, count_primes, n) for n in limits)))
