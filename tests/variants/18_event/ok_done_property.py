"""Correct: `done` is a read-only property over a private count; one Event per target, set by advance."""

import asyncio
import collections


async def start_together(run, names, go):
    async def runner(name):
        await go.wait()
        return await run(name)

    tasks = [asyncio.create_task(runner(name)) for name in names]
    try:
        return [await task for task in tasks]
    finally:
        # Cancelled by the caller (or a run's error): the tasks still running are stopped too.
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def run_every(job, interval, stop):
    if stop.is_set():
        return 0
    runs = 0
    while True:
        await job()
        runs += 1
        if stop.is_set():
            return runs
        try:
            async with asyncio.timeout(interval):
                await stop.wait()
            return runs
        except TimeoutError:
            pass


class Progress:
    def __init__(self):
        self._done = 0
        self._reached = collections.defaultdict(asyncio.Event)  # target -> its Event

    @property
    def done(self):
        return self._done

    async def advance(self, count=1):
        self._done += count
        for target, reached in self._reached.items():
            if target <= self._done:
                reached.set()

    async def wait_until(self, target):
        if self._done >= target:
            return
        await self._reached[target].wait()
