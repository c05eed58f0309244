"""Wrong: when cancelled, save_order gives the shielded save 1 s more, then cancels it (wait_for
cancels on timeout, and on a second cancel too): a slower save is cut off halfway. Breaks "the save
itself must run on to its end"."""
# fails only: test_a_cancelled_caller_does_not_cut_the_save_short, test_a_second_cancel_does_not_cut_the_save_short_either
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio
import contextlib


async def run_job(pool, job):
    conn = await pool.acquire()
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
    saving = asyncio.ensure_future(save(order))
    try:
        return await asyncio.shield(saving)
    except asyncio.CancelledError:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(saving, timeout=1.0)
        raise
