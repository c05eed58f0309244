"""Races each job against stop and cancels the job when stop wins: a running job is cut short."""

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
        work = asyncio.create_task(job())
        stopped = asyncio.create_task(stop.wait())
        await asyncio.wait({work, stopped}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        if not work.done():
            work.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await work
            break
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
