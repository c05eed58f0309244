"""Checks go.is_set() every 0.1 s instead of waiting on go: it wakes up again and again while go is unset."""

import asyncio
import contextlib


async def start_together(run, names, go):
    while not go.is_set():
        await asyncio.sleep(0.1)
    return list(await asyncio.gather(*(run(name) for name in names)))


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
