"""start_together gathers the runs with `return_exceptions=True` (a learner trial's answer): a run's
error comes back in the list, in the place of its result, and never reaches the caller.
"""

# fails only: test_an_error_of_a_run_reaches_the_caller

import asyncio
import contextlib


async def start_together(run, names, go):
    await go.wait()
    return list(await asyncio.gather(*(run(name) for name in names), return_exceptions=True))


async def run_every(job, interval, stop):
    runs = 0
    while not stop.is_set():
        await job()
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
