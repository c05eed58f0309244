"""Wrong: run_job waits for `pool.acquire()` at most 5 s (`asyncio.wait_for(pool.acquire(), 5)`), a
time limit the docstring does not give: a pool with no free connection for longer makes run_job raise
TimeoutError for a job that was never run, where it should wait however long the pool takes."""
# fails only: test_waits_for_the_pool_however_long_it_takes_to_acquire_and_to_release

import asyncio


async def run_job(pool, job):
    conn = await asyncio.wait_for(pool.acquire(), 5)
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
