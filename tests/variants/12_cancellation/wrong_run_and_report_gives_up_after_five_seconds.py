"""Wrong: run_and_report puts a 5 s timeout of its own on the job and reports 'failed' for it; the
docstring gives no time limit."""
# fails only: test_a_job_that_returns_reports_done

import asyncio


async def run_job(pool, job):
    conn = await pool.acquire()
    try:
        return await job(conn)
    finally:
        await pool.release(conn)


async def run_and_report(job, report):
    try:
        async with asyncio.timeout(5):
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
