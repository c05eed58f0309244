"""Wrong: run_job gives the connection back through `asyncio.wait_for(pool.release(conn), 5)`, a
time limit the docstring does not give: a pool slower than that to take the connection back makes
run_job raise TimeoutError (and throw away the job's result or error), where it should wait for the
release however long it takes."""
# fails only: test_waits_for_the_pool_however_long_it_takes_to_acquire_and_to_release

import asyncio


async def run_job(pool, job):
    conn = await pool.acquire()
    try:
        return await job(conn)
    finally:
        await asyncio.wait_for(pool.release(conn), 5)


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
