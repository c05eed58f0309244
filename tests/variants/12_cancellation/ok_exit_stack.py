"""Correct: contextlib.AsyncExitStack releases the connection once it has been acquired."""

import asyncio
import contextlib


async def run_job(pool, job):
    async with contextlib.AsyncExitStack() as stack:
        conn = await pool.acquire()
        stack.push_async_callback(pool.release, conn)
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
    return await asyncio.shield(save(order))
