"""Spins on the flag (or the count) with await asyncio.sleep(0): prompt, but keeps the CPU busy."""

import asyncio


async def start_together(run, names, go):
    async def runner(name):
        while not go.is_set():
            await asyncio.sleep(0)
        return await run(name)

    return list(await asyncio.gather(*(runner(name) for name in names)))


async def run_every(job, interval, stop):
    loop = asyncio.get_running_loop()
    runs = 0
    while not stop.is_set():
        await job()
        runs += 1
        deadline = loop.time() + interval
        while loop.time() < deadline and not stop.is_set():
            await asyncio.sleep(0)
    return runs


class Progress:
    def __init__(self):
        self.done = 0

    async def advance(self, count=1):
        self.done += count

    async def wait_until(self, target):
        while self.done < target:
            await asyncio.sleep(0)
