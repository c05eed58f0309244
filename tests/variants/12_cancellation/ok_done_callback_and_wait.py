"""Correct: run_and_report reports from the job task's done callback; save_order waits with
asyncio.wait, which does not cancel what it waits for."""

import asyncio

_saving = set()


async def run_job(pool, job):
    conn = await pool.acquire()
    try:
        return await job(conn)
    finally:
        await pool.release(conn)


async def run_and_report(job, report):
    async def call():
        return await job()

    task = asyncio.create_task(call())

    def said(t):
        if t.cancelled():
            report("cancelled")
        elif t.exception() is not None:
            report("failed")
        else:
            report("done")

    task.add_done_callback(said)
    return await task


async def save_order(save, order):
    task = asyncio.create_task(save(order))
    _saving.add(task)
    task.add_done_callback(_saving.discard)
    await asyncio.wait({task})
    return task.result()
