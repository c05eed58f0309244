"""Correct: one wait for go before gather; the pause with asyncio.timeout; a while loop around cond.wait()."""

import asyncio


async def start_together(run, names, go):
    await go.wait()
    return list(await asyncio.gather(*(run(name) for name in names)))


async def run_every(job, interval, stop):
    runs = 0
    while not stop.is_set():
        await job()
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
        async with self.changed:
            while self.done < target:
                await self.changed.wait()
