"""Mistake: `except asyncio.CancelledError` without re-raising: the task carries on as if not cancelled."""

import asyncio


async def run_job(pool, job):
    conn = await pool.acquire()
    try:
        return await job(conn)
    except asyncio.CancelledError:
        return None
    finally:
        await pool.release(conn)


async def run_and_report(job, report):
    try:
        result = await job()
    except asyncio.CancelledError:
        report("cancelled")
        return None
    except Exception:
        report("failed")
        raise
    report("done")
    return result


async def save_order(save, order):
    return await asyncio.shield(save(order))
