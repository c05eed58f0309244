"""Wrong: submits every job, then checks every 10 ms whether all are done, instead of awaiting
them (a learner trial's answer: it passed a limit of 50 wake-ups over the whole call)."""
# fails only: test_the_call_waits_for_the_pool_without_checking_again_and_again

import asyncio


async def fetch_reports(fetch_report, report_ids):
    return list(await asyncio.gather(*(asyncio.to_thread(fetch_report, rid) for rid in report_ids)))


async def count_primes_in_pool(pool, count_primes, limits):
    jobs = [pool.submit(count_primes, n) for n in limits]
    while not all(job.done() for job in jobs):
        await asyncio.sleep(0.01)
    return [job.result() for job in jobs]
