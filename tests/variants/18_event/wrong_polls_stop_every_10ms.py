"""Pauses in steps of 10 ms, checking stop.is_set() after each, instead of waiting on stop with a timeout."""

import asyncio


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
        for _ in range(round(interval / 0.01)):
            if stop.is_set():
                break
            await asyncio.sleep(0.01)
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
