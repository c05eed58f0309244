"""Mistake: the connection is released after the job, not in a finally block."""

import asyncio


async def run_job(pool, job):
    conn = await pool.acquire()
    result = await job(conn)
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
