"""Busy-waits with no await in the loop: the event loop freezes, so go, stop or the count can never change."""

import asyncio
import time


async def start_together(run, names, go):
    while not go.is_set():
        pass
    return list(await asyncio.gather(*(run(name) for name in names)))


async def run_every(job, interval, stop):
    runs = 0
    while not stop.is_set():
        await job()
        runs += 1
        deadline = time.monotonic() + interval
        while time.monotonic() < deadline and not stop.is_set():
            time.sleep(0.005)
    return runs


class Progress:
    def __init__(self):
        self.done = 0

    async def advance(self, count=1):
        self.done += count

    async def wait_until(self, target):
        while self.done < target:
            pass
