"""Correct: cleanup in except BaseException + re-raise; the save is waited for before stopping, through
a shield, so that a second cancel stops the wait, not the save."""

import asyncio


async def run_job(pool, job):
    conn = await pool.acquire()
    try:
        result = await job(conn)
    except BaseException:
        await pool.release(conn)
        raise
    await pool.release(conn)
    return result


async def run_and_report(job, report):
    try:
        result = await job()
    except BaseException as error:
        report("cancelled" if isinstance(error, asyncio.CancelledError) else "failed")
        raise
    else:
        report("done")
        return result


async def save_order(save, order):
    saving = asyncio.create_task(save(order))
    try:
        return await asyncio.shield(saving)
    except asyncio.CancelledError:
        await asyncio.shield(saving)  # waits until the order is safe (a second cancel ends the wait only)
        raise
