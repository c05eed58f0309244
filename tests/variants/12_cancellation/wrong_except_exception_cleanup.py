"""Mistake: cleanup under `except Exception`, which never sees a CancelledError."""

import asyncio


async def run_job(pool, job):
    conn = await pool.acquire()
    try:
        result = await job(conn)
    except Exception:
        await pool.release(conn)
        raise
    await pool.release(conn)
    return result


async def run_and_report(job, report):
    try:
        result = await job()
    except Exception:
        report("failed")
        raise
    report("done")
    return result


async def save_order(save, order):
    return await asyncio.shield(save(order))
