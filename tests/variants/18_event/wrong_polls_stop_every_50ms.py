"""Pauses by checking stop.is_set() every 50 ms until the interval is over, instead of waiting on stop."""

import asyncio


async def start_together(run, names, go):
    async def runner(name):
        await go.wait()
        return await run(name)

    return list(await asyncio.gather(*(runner(name) for name in names)))


async def run_every(job, interval, stop):
    loop = asyncio.get_running_loop()
    runs = 0
    while not stop.is_set():
        await job()
        runs += 1
        deadline = loop.time() + interval
        while not stop.is_set() and (left := deadline - loop.time()) > 0:
            await asyncio.sleep(min(0.05, left))
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
