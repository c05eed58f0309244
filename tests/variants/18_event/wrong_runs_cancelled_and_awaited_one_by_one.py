"""Wrong: start_together starts its runs as tasks and, in a `finally:` block, cancels each one and
waits for it (`asyncio.wait({task})`) before cancelling the next: cancelled a second time while
waiting for the first, it ends with the other runs never cancelled, still running."""
# fails only: test_start_together_cancelled_again_while_its_runs_stop_ends_cancelled

import asyncio
import contextlib


async def start_together(run, names, go):
    await go.wait()
    tasks = [asyncio.create_task(run(name)) for name in names]
    try:
        if tasks:
            await asyncio.wait(tasks)
        return [t.result() for t in tasks]
    finally:
        for t in tasks:
            if not t.done():
                t.cancel()
                await asyncio.wait({t})


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
