"""Mistake: one `except BaseException` for everything: a cancellation is reported as 'failed'."""

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
        raise
    report("done")
    return result


async def save_order(save, order):
    return await asyncio.shield(save(order))
