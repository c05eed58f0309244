"""Mistake: `except CancelledError: pass` around the release: cancelled then, run_job carries on."""

import asyncio


async def run_job(pool, job):
    conn = await pool.acquire()
    try:
        return await job(conn)
    finally:
        try:  # noqa: SIM105
            await pool.release(conn)
        except asyncio.CancelledError:
            pass


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
