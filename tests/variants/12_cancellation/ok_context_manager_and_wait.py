"""Correct: an async context manager does the release; asyncio.wait does not cancel what it waits on."""

import asyncio
from contextlib import asynccontextmanager


@asynccontextmanager
async def borrowed(pool):
    conn = await pool.acquire()
    try:
        yield conn
    finally:
        await pool.release(conn)


async def run_job(pool, job):
    async with borrowed(pool) as conn:
        return await job(conn)


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
    saving = asyncio.create_task(save(order))
    await asyncio.wait({saving})
    return saving.result()
