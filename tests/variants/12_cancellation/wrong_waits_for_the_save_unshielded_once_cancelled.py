"""Wrong: once cancelled, save_order waits for the save by awaiting its task unshielded: a second
cancel (a timeout, then the caller giving up too) passes on to the save, cut off halfway. Breaks:
"the save itself must run on to its end"."""
# fails only: test_a_second_cancel_does_not_cut_the_save_short_either

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
        await saving  # the caller's await waits until the order is safe, then stops
        raise
