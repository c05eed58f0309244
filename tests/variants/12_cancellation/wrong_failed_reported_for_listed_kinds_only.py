"""Wrong: run_and_report reports "failed" only under `except (ConnectionError, OSError, ValueError,
RuntimeError, LookupError, TypeError):`. The docstring says "failed" for every exception the job raises: a
ZeroDivisionError, an error class of the job's own, or an ExceptionGroup goes on with nothing reported."""
# fails only: test_a_job_that_raises_any_exception_reports_failed[zero_division], test_a_job_that_raises_any_exception_reports_failed[own_class], test_a_job_that_raises_any_exception_reports_failed[exception_group], test_a_job_that_raises_any_exception_reports_failed[not_an_exception]
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio


# Task 1: give back what you hold, even when cancelled
async def run_job(pool, job):
    """Borrow a connection with `conn = await pool.acquire()`, then return `await job(conn)`.

    Give the connection back with `await pool.release(conn)` however the job ends: it
    returned, it raised, or the task running run_job was cancelled while the job ran.
    The job's error, or the cancellation, must still reach the caller.
    """
    conn = await pool.acquire()
    try:
        return await job(conn)
    finally:
        await pool.release(conn)


# Task 2: say you were cancelled, then stop
async def run_and_report(job, report):
    """Return `await job()`, and tell `report` how the job ended, once.

    Call `report("done")` when the job returned, and `report("failed")` when it raised an
    exception (then let that exception go on). When the task running run_and_report is
    cancelled, call `report("cancelled")` and go on stopping: the task must end up
    cancelled (`task.cancelled()` is True).
    """
    try:
        result = await job()
    except asyncio.CancelledError:
        report("cancelled")
        raise
    except (ConnectionError, OSError, ValueError, RuntimeError, LookupError, TypeError):
        report("failed")
        raise

    report("done")
    return result


# Task 3: work that must not be cut off
async def save_order(save, order):
    """Store `order` with `await save(order)` and return what save returned.

    If the task running save_order is cancelled while the save is under way, save_order
    must end cancelled, but the save itself must run on to its end (and run only once).
    """
    return await asyncio.shield(save(order))
