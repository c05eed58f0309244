"""count_primes_in_pool hands every count to the pool, then a helper thread of its own checks
`job.done()` every 20 ms, waiting in `select.select([], [], [], 0.02)` in between, and wakes the loop
once (call_soon_threadsafe) when all are done (a red team's: the thread's pause is no time.sleep). A
poll all the same: it learns that the jobs are done only at its next check.
Await the jobs instead (`await asyncio.gather(*(loop.run_in_executor(pool, count_primes, n) for n
in limits))`)."""
# fails only: test_the_call_waits_for_the_pool_without_checking_again_and_again

import asyncio
import select
import threading


async def fetch_reports(fetch_report, report_ids):
    return list(await asyncio.gather(*(asyncio.to_thread(fetch_report, rid) for rid in report_ids)))


async def count_primes_in_pool(pool, count_primes, limits):
    loop = asyncio.get_running_loop()
    jobs = [pool.submit(count_primes, n) for n in limits]
    done = loop.create_future()

    def watch():
        while not all(job.done() for job in jobs):
            select.select([], [], [], 0.02)
        loop.call_soon_threadsafe(lambda: done.done() or done.set_result(None))

    threading.Thread(target=watch, daemon=True).start()
    await done
    return [job.result() for job in jobs]
