"""Correct: a harmless sleep(0), then asyncio.wait on the calls; jobs in a TaskGroup; a Future per waiter."""

import asyncio


async def start_together(run, names, go):
    await asyncio.sleep(0)
    await go.wait()
    tasks = [asyncio.ensure_future(run(name)) for name in names]
    try:
        if tasks:  # asyncio.wait raises ValueError when given none
            await asyncio.wait(tasks)
    finally:
        # Cancelled by the caller during the wait: stop the runs too.
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return [task.result() for task in tasks]


async def run_every(job, interval, stop):
    runs = 0
    while not stop.is_set():
        async with asyncio.TaskGroup() as group:
            group.create_task(job())
        runs += 1
        stopped = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait_for(asyncio.shield(stopped), interval)
        except TimeoutError:
            pass
        finally:
            stopped.cancel()
            await asyncio.gather(stopped, return_exceptions=True)
    return runs


class Progress:
    def __init__(self):
        self.done = 0
        self._waiters = []

    async def advance(self, count=1):
        self.done += count
        still = []
        for target, future in self._waiters:
            if self.done >= target:
                if not future.done():
                    future.set_result(None)
            else:
                still.append((target, future))
        self._waiters = still

    async def wait_until(self, target):
        if self.done >= target:
            return
        future = asyncio.get_running_loop().create_future()
        self._waiters.append((target, future))
        await future
