"""Wrong: wait_until waits in a task of its own, never cancelled: cancelled, it leaves that task waiting."""
# fails only: test_a_cancelled_wait_until_ends_cancelled_with_nothing_left_running, test_advance_has_done_its_work_when_it_returns
# ruff: noqa: E501 (the line above names every test it fails)
# wait_until starts a task that waits on the Condition and waits for it with `asyncio.wait`.
# Cancelled by its caller (who gave up waiting), wait_until ends there, and its task goes on waiting
# on the Progress: it wakes and runs at the next advances, for no one. Awaiting the task itself
# (`await task` passes the cancel on), or a `finally:` that cancels and awaits it, stops it; waiting
# in wait_until itself needs no task at all.

import asyncio
import contextlib


# Task 1: start together on a signal
async def start_together(run, names, go):
    """Wait for `go` (an asyncio.Event) to be set, then call `await run(name)` for every
    name in `names`, all at the same time.

    No call may start before `go` is set, and all of them start the moment it is.
    `go` is the caller's: only wait on it, leave it set (don't clear it).
    Return a list of the results, in the same order as `names`.
    """

    async def runner(name):
        await go.wait()
        return await run(name)

    return list(await asyncio.gather(*(runner(name) for name in names)))


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
        async def wait():
            async with self.changed:
                await self.changed.wait_for(lambda: self.done >= target)

        task = asyncio.create_task(wait())
        await asyncio.wait({task})
        task.result()
