"""fetch_reports checks its threads' tasks every 0.25 s instead of awaiting them: it learns
they are done only at its next check (a red team's).
"""

# fails only: test_reports_come_back_in_the_order_of_the_ids

import asyncio


async def fetch_reports(fetch_report, report_ids):
    tasks = [asyncio.create_task(asyncio.to_thread(fetch_report, rid)) for rid in report_ids]
    try:
        while not all(t.done() for t in tasks):
            await asyncio.sleep(0.25)
        return [t.result() for t in tasks]
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def count_primes_in_pool(pool, count_primes, limits):
    loop = asyncio.get_running_loop()
    return list(await asyncio.gather(*(loop.run_in_executor(pool, count_primes, n) for n in limits)))
