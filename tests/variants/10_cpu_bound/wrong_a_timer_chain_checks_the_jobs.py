"""count_primes_in_pool hands every count to the pool, then checks on the jobs with a chain of
`threading.Timer(0.02, check)`: each check that finds a job still running starts the next timer, and
the last wakes the loop (call_soon_threadsafe). A poll all the same, moved to timer threads: it
learns that the jobs are done only at its next check. Await the jobs instead
(`await asyncio.gather(*(loop.run_in_executor(pool, count_primes, n) for n in limits))`)."""
# fails only: test_the_call_waits_for_the_pool_without_checking_again_and_again

import asyncio
import threading


async def fetch_reports(fetch_report, report_ids):
    return list(await asyncio.gather(*(asyncio.to_thread(fetch_report, rid) for rid in report_ids)))


async def count_primes_in_pool(pool, count_primes, limits):
    loop = asyncio.get_running_loop()
    jobs = [pool.submit(count_primes, n) for n in limits]
    done = loop.create_future()

    def check():
        if all(job.done() for job in jobs):
            loop.call_soon_threadsafe(lambda: done.done() or done.set_result(None))
        else:
            timer = threading.Timer(0.02, check)
            timer.daemon = True
            timer.start()

    check()
    await done
    return [job.result() for job in jobs]
