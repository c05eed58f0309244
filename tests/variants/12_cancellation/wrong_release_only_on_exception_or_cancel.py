"""Mistake: run_job gives the connection back on return, under `except (Exception, CancelledError)`
and nowhere else: a job that raises any other BaseException (SystemExit, KeyboardInterrupt, a
library's own) keeps it. "however the job ends" takes a `finally:` (a red team's answer)."""
# fails only: test_a_job_that_raises_a_baseexception_gives_the_connection_back_and_it_goes_on

import asyncio


async def run_job(pool, job):
    conn = await pool.acquire()
    try:
        result = await job(conn)
    except (Exception, asyncio.CancelledError):
        await pool.release(conn)
        raise
    await pool.release(conn)
    return result


async def run_and_report(job, report):
    try:
        result = await job()
    except asyncio.CancelledError:
        report("cancelled")
        raise
    except BaseException:  # any other, whatever its class: KeyboardInterrupt too
        report("failed")
        raise
    report("done")
    return result


async def save_order(save, order):
    return await asyncio.shield(save(order))
