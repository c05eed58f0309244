"""Mistake: `except CancelledError: pass` around acquire: the acquire is retried and the job runs anyway."""

import asyncio


async def run_job(pool, job):
    while True:
        try:
            conn = await pool.acquire()
            break
        except asyncio.CancelledError:
            pass  # try again
    try:
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
