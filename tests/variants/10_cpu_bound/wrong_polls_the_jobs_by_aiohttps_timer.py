"""count_primes_in_pool checks every 20 ms whether its jobs are done (a poll), its timer set through
`aiohttp.helpers.call_later`: a timer the watch cannot name as the code's was taken for a heartbeat's,
and the probe never held it back (red team H)."""
# fails only: test_the_call_waits_for_the_pool_without_checking_again_and_again

import asyncio

from aiohttp.helpers import call_later


async def fetch_reports(fetch_report, report_ids):
    return list(await asyncio.gather(*(asyncio.to_thread(fetch_report, rid) for rid in report_ids)))


async def _tick(loop, seconds):
    fut = loop.create_future()
    call_later(lambda: fut.done() or fut.set_result(None), seconds, loop)
    await fut


async def count_primes_in_pool(pool, count_primes, limits):
    loop = asyncio.get_running_loop()
    jobs = [pool.submit(count_primes, n) for n in limits]
    while not all(job.done() for job in jobs):  # check again and again
        await _tick(loop, 0.02)
    return [job.result() for job in jobs]
