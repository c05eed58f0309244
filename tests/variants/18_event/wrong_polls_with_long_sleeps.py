"""Checks the flag (or the count) every 0.5 s / 0.1 s instead of waiting on it: reacts late."""

import asyncio


async def start_together(run, names, go):
    while not go.is_set():
        await asyncio.sleep(0.5)
    return list(await asyncio.gather(*(run(name) for name in names)))


async def run_every(job, interval, stop):
    runs = 0
    while not stop.is_set():
        await job()
        runs += 1
        await asyncio.sleep(interval)
    return runs


class Progress:
    def __init__(self):
        self.done = 0

    async def advance(self, count=1):
        self.done += count

    async def wait_until(self, target):
        while self.done < target:
            await asyncio.sleep(0.1)
