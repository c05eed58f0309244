"""Correct: run_job warns in the log when the pool is slow to hand out a connection (a
`loop.call_later` warning, cancelled once the connection comes) and keeps a heartbeat task that logs
while the connection goes back (cancelled, and waited for, once it is back). Neither is a time limit:
both only log, and run_job waits for the pool however long it takes."""

import asyncio
import logging

log = logging.getLogger(__name__)


async def _heartbeat(what):
    while True:
        await asyncio.sleep(1)
        log.info("still %s", what)


async def run_job(pool, job):
    loop = asyncio.get_running_loop()
    warning = loop.call_later(5, log.warning, "the pool has had no free connection for 5 s")
    try:
        conn = await pool.acquire()
    finally:
        warning.cancel()
    try:
        return await job(conn)
    finally:
        heartbeat = asyncio.create_task(_heartbeat("giving the connection back"))
        try:
            await pool.release(conn)
        finally:
            heartbeat.cancel()
            await asyncio.wait([heartbeat])


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
