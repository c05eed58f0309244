"""Wrong: 'the save runs only once' read as once per order ever: the saves are kept in the module by
order, and an order saved before is not stored again. Breaks "Store `order` with `await save(order)`"."""
# fails only: test_every_call_stores_its_order, test_two_calls_at_once_with_the_same_order_save_it_twice

import asyncio

_receipts = {}


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
    key = repr(order)
    if key not in _receipts:
        _receipts[key] = asyncio.ensure_future(save(order))
    return await asyncio.shield(_receipts[key])
