"""Correct: conn = None before the try, and the finally releases only a connection it really got."""

import asyncio


async def run_job(pool, job):
    conn = None
    try:
        conn = await pool.acquire()
        return await job(conn)
    finally:
        if conn is not None:
            await pool.release(conn)


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
