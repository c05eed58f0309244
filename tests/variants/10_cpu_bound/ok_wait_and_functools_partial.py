"""Correct: asyncio.wait on tasks and futures; each job bound with functools.partial, as the
asyncio docs show (in judge mode the partial reaches the judge's pool as a partial of its function)."""

import asyncio
import functools


async def fetch_reports(fetch_report, report_ids):
    tasks = [asyncio.create_task(asyncio.to_thread(fetch_report, rid)) for rid in report_ids]
    try:
        if tasks:
            await asyncio.wait(tasks)
    finally:  # cancelled by the caller: stop waiting for the threads' tasks too, and let them end
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)
    return [t.result() for t in tasks]


async def count_primes_in_pool(pool, count_primes, limits):
    loop = asyncio.get_running_loop()
    futures = [loop.run_in_executor(pool, functools.partial(count_primes, n)) for n in limits]
    if futures:
        await asyncio.wait(futures)
    return [f.result() for f in futures]
