"""Correct: runner tasks in a TaskGroup; the pause as asyncio.wait on a stop task; one Event per waiter."""

import asyncio


async def start_together(run, names, go):
    async def runner(name):
        await go.wait()
        return await run(name)

    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(runner(name)) for name in names]
    return [task.result() for task in tasks]


async def run_every(job, interval, stop):
    runs = 0
    while not stop.is_set():
        await job()
        runs += 1
        stopped = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({stopped}, timeout=interval)
        finally:  # cancelled here too: the helper task is not left behind
            stopped.cancel()
            await asyncio.gather(stopped, return_exceptions=True)
    return runs


class Progress:
    def __init__(self):
        self.done = 0
        self.waiting = []  # (target, event) pairs

    async def advance(self, count=1):
        self.done += count
        for target, reached in self.waiting:
            if self.done >= target:
                reached.set()

    async def wait_until(self, target):
        if self.done >= target:
            return
        reached = asyncio.Event()
        self.waiting.append((target, reached))
        try:
            await reached.wait()
        finally:
            self.waiting.remove((target, reached))
