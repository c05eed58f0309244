"""Wrong: run_and_report reports "done" with `loop.call_soon(report, "done")`: the report comes
only after it has returned, when its caller may have moved on (learner trial AA)."""
# fails only: test_a_job_that_returns_reports_done, test_a_job_that_returns_nothing_much_reports_done_too[none], test_a_job_that_returns_nothing_much_reports_done_too[zero], test_a_job_that_returns_nothing_much_reports_done_too[empty_str]
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio


# Task 1: give back what you hold, even when cancelled
async def run_job(pool, job):
    """Borrow a connection with `conn = await pool.acquire()`, then return `await job(conn)`.

    Give the connection back with `await pool.release(conn)` however the job ends: it
    returned, it raised, or the task running run_job was cancelled while the job ran.
    The job's error, or the cancellation, must still reach the caller. If the release itself
    raises after a job that returned, let its error reach the caller.
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
    exception, whatever its class (a TimeoutError of the job's own, or a BaseException that is
    not an Exception, as KeyboardInterrupt is: only a cancel of this task is "cancelled"), then
    let that exception go on. When the task running run_and_report is cancelled, call
    `report("cancelled")` and go on stopping: the task must end up cancelled
    (`task.cancelled()` is True).
    """
    try:
        result = await job()
    except asyncio.CancelledError:
        report("cancelled")
        raise
    except BaseException:  # any other, whatever its class: KeyboardInterrupt too
        report("failed")
        raise
    asyncio.get_running_loop().call_soon(report, "done")  # reported once it has returned
    return result


# Task 3: work that must not be cut off
async def save_order(save, order):
    """Store `order` with `await save(order)` and return what save returned.

    If the task running save_order is cancelled while the save is under way, save_order
    must end cancelled, but the save itself must run on to its end (and run only once).
    If the save raises, let its error reach the caller, without saving again.
    """
    return await asyncio.shield(save(order))
