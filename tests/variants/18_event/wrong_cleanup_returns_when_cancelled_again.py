"""Wrong: start_together starts its runs as tasks and, when cancelled, cancels them and waits with
`asyncio.gather(*tasks, return_exceptions=True)`; but a second cancel during that wait is caught, and
it returns None: whoever cancelled it (a timeout, then its own caller) is told the runs are done."""
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
    except BaseException:
        for t in tasks:
            t.cancel()
        try:
            await asyncio.gather(*tasks, return_exceptions=True)
        except asyncio.CancelledError:
            return None  # cancelled again: the runs are cancelled, that will do
        raise


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
