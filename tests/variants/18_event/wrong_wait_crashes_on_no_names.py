"""Wrong: start_together waits for its runs with asyncio.wait, which raises ValueError when given none."""
# fails only: test_no_names_gives_an_empty_list
# start_together(run, [], go) should return []: `asyncio.wait` on an empty set raises ValueError
# (a red team's answer).

import asyncio
import contextlib


async def start_together(run, names, go):
    await go.wait()
    tasks = [asyncio.create_task(run(name)) for name in names]
    try:
        await asyncio.wait(tasks)
    except asyncio.CancelledError:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    return [task.result() for task in tasks]


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
        self._changed = asyncio.Condition()

    async def advance(self, count=1):
        async with self._changed:
            self.done += count
            self._changed.notify_all()

    async def wait_until(self, target):
        async with self._changed:
            await self._changed.wait_for(lambda: self.done >= target)
