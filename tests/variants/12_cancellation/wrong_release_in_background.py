"""Mistake: the release runs as a task nobody awaits, so run_job ends before the connection is back."""

import asyncio


async def run_job(pool, job):
    conn = await pool.acquire()
    try:
        return await job(conn)
    finally:
        asyncio.create_task(pool.release(conn))  # noqa: RUF006


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
