"""Checks the count every 10 ms under a Condition's lock instead of waiting on the Condition."""

import asyncio
import contextlib


async def start_together(run, names, go):
    async def runner(name):
        await go.wait()
        return await run(name)

    return list(await asyncio.gather(*(runner(name) for name in names)))


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
        while True:
            async with self.changed:
                if self.done >= target:
                    return
            await asyncio.sleep(0.01)
