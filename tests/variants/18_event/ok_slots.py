"""Correct: a Progress with __slots__; one wait for go, then a TaskGroup; each job awaited as its own task."""

import asyncio


async def start_together(run, names, go):
    await go.wait()
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(run(name)) for name in names]
    return [task.result() for task in tasks]


async def run_every(job, interval, stop):
    runs = 0
    while not stop.is_set():
        await asyncio.create_task(job())
        runs += 1
        try:
            await asyncio.wait_for(stop.wait(), interval)
        except TimeoutError:
            continue
    return runs


class Progress:
    __slots__ = ("changed", "done")

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
