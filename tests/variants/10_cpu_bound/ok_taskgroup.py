"""Correct: to_thread and run_in_executor calls started in a TaskGroup."""

import asyncio


async def fetch_reports(fetch_report, report_ids):
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(asyncio.to_thread(fetch_report, rid)) for rid in report_ids]
    return [task.result() for task in tasks]


async def count_primes_in_pool(pool, count_primes, limits):
    loop = asyncio.get_running_loop()
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(_in_pool(loop, pool, count_primes, n)) for n in limits]
    return [task.result() for task in tasks]


async def _in_pool(loop, pool, func, arg):
    return await loop.run_in_executor(pool, func, arg)
