"""Each runner checks go.is_set() every 45 ms instead of waiting on go: they wake up again and again."""

import asyncio
import contextlib


async def start_together(run, names, go):
    async def runner(name):
        while not go.is_set():
            await asyncio.sleep(0.045)
        return await run(name)

    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(runner(name)) for name in names]
    return [task.result() for task in tasks]


async def run_every(job, interval, stop):
    runs = 0
    while not stop.is_set():
        await job()
        runs += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
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
        async with self.changed:
            await self.changed.wait_for(lambda: self.done >= target)
