"""Wrong: advance adds to the count and leaves the wake-up to a task of its own, never awaited:
the waiters wake a step later all the same, but advance returns with its work still running
(learner trial AA)."""
# fails only: test_advance_has_done_its_work_when_it_returns

import asyncio
import contextlib


# Task 1: start together on a signal
async def start_together(run, names, go):
    """Wait for `go` (an asyncio.Event) to be set, then call `await run(name)` for every
    name in `names`, all at the same time.

    No call may start before `go` is set, and all of them start the moment it is.
    `go` is the caller's: only wait on it, leave it set (don't clear it).
    Return a list of the results, in the same order as `names`.
    If the caller cancels start_together, first cancel the runs still running and wait
    until they have stopped, then let the cancel through, so that it ends cancelled.
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
    A cancel from the caller is not `stop`: it stops the running job too, and ends
    run_every cancelled.
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
        self.done += count

        async def wake():
            async with self.changed:
                self.changed.notify_all()

        asyncio.ensure_future(wake())  # noqa: RUF006 (the mistake: a task no one keeps or awaits)

    async def wait_until(self, target):
        """Return as soon as `self.done` is at least `target` (at once if it already is),
        and not before. Waiting must sleep until the count changes: no checking it again and
        again in a loop (a sleep or a timeout between checks). A caller may give up
        waiting and cancel it: let the cancel through, so that wait_until ends cancelled,
        with nothing it started still running."""
        async with self.changed:
            await self.changed.wait_for(lambda: self.done >= target)
