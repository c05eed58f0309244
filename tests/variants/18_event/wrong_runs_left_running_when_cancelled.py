"""Wrong: start_together cleans up nothing after asyncio.wait: cancelled, it leaves every run running."""
# fails only: test_a_cancelled_start_together_ends_cancelled_with_nothing_left_running, test_start_together_cancelled_again_while_its_runs_stop_ends_cancelled
# ruff: noqa: E501 (the line above names every test it fails)
# The runs are started as tasks once go is set and waited for with `asyncio.wait`. Cancelled by its
# caller during the wait, start_together ends there: the code after the `await` never runs, and
# every run it started goes on. A `finally:` block that cancels the tasks and awaits them (or a
# gather, or a TaskGroup) stops them.

import asyncio
import contextlib


# Task 1: start together on a signal
async def start_together(run, names, go):
    await go.wait()
    if not names:
        return []
    tasks = [asyncio.create_task(run(name)) for name in names]
    await asyncio.wait(tasks)
    return [task.result() for task in tasks]


# Task 2: a periodic job that stops on a signal
async def run_every(job, interval, stop):
    """Call `await job()` right away, then again after each pause of `interval` seconds
    (counted from the end of one job to the start of the next), until `stop` (an
    asyncio.Event) is set.

    Once `stop` is set, start no new job and return the number of jobs that ran: at
    once if it is set during a pause; when the job ends if it is set while a job runs
    (let that job finish, do not cut it short). If `stop` is already set, run nothing
    and return 0. If a job raises, start no new job: let its error reach the caller.
    """
    runs = 0
    while not stop.is_set():
        await job()
        runs += 1
        # The pause: it ends after `interval`, or the moment stop is set.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
    return runs


# Task 3: wait until enough is done
class Progress:
    """Counts finished work items, and lets tasks wait until the count reaches a target."""

    def __init__(self):
        self.done = 0
        self.changed = asyncio.Condition()

    async def advance(self, count=1):
        """Add `count` to `self.done`, and wake every task waiting in `wait_until`, so
        those whose target is now reached can return."""
        async with self.changed:
            self.done += count
            self.changed.notify_all()

    async def wait_until(self, target):
        """Return as soon as `self.done` is at least `target` (at once if it already is),
        and not before. Waiting must sleep until the count changes: no checking it again and
        again in a loop (a sleep or a timeout between checks)."""
        async with self.changed:
            await self.changed.wait_for(lambda: self.done >= target)
