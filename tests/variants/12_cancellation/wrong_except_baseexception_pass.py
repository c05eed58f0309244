"""Mistake: `except BaseException` catches the CancelledError too: reported as a failure, then swallowed."""

import asyncio


async def run_job(pool, job):
    conn = await pool.acquire()
    try:
        return await job(conn)
    finally:
        await pool.release(conn)


async def run_and_report(job, report):
    try:
        result = await job()
    except BaseException:
        report("failed")
        return None
    report("done")
    return result


async def save_order(save, order):
    return await asyncio.shield(save(order))
