"""Checks go.is_set() every 0.22 s instead of waiting on go: one look while the test holds go, late after."""
# fails only: test_nothing_starts_or_wakes_up_before_go_is_set, test_every_runner_starts_the_moment_go_is_set, test_results_come_back_in_the_order_of_the_names
# ruff: noqa: E501 (the line above names every test it fails)
# Its period is longer than the longest short hold plus LATE (0.15 + 0.05): when the test sets go a
# little late, it looks too few times to be counted and is late by less than LATE. Its timer, pending
# while go is unset, is seen every time.

import asyncio
import contextlib


async def start_together(run, names, go):
    while not go.is_set():
        await asyncio.sleep(0.22)
    return list(await asyncio.gather(*(run(name) for name in names)))


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
