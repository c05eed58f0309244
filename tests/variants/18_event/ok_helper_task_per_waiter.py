"""Correct: runner tasks awaited one by one; each job as its own task; wait_until waits in its own task."""

import asyncio


async def start_together(run, names, go):
    async def runner(name):
        await go.wait()
        return await run(name)

    tasks = [asyncio.create_task(runner(name)) for name in names]
    results = []
    try:
        for task in tasks:
            results.append(await task)
    finally:
        # Cancelled by the caller (or a run's error): the tasks still running are stopped too.
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return results


async def run_every(job, interval, stop):
    runs = 0
    while not stop.is_set():
        await asyncio.create_task(job())
        runs += 1
        try:
            async with asyncio.timeout(interval):
                await stop.wait()
        except TimeoutError:
            pass
    return runs


class Progress:
    def __init__(self):
        self.done = 0
        self.changed = asyncio.Condition()

    async def advance(self, count=1):
        async with self.changed:
            self.done += count
            self.changed.notify_all()

    async def wait_until(self, target):
        async def until():
            async with self.changed:
                while self.done < target:
                    await self.changed.wait()

        await asyncio.create_task(until())
