"""Mistake: acquire inside the try: cancelled while acquiring, the finally raises UnboundLocalError."""

import asyncio


async def run_job(pool, job):
    try:
        conn = await pool.acquire()
        return await job(conn)
    finally:
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
