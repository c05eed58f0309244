"""Wrong: start_together, with three names or fewer, waits for go and then runs them one after another
(a gather only for more): two or three runs run one after another once go is set."""
# fails only: test_starts_at_once_when_go_is_already_set, test_two_runners_run_at_the_same_time_once_go_is_set
# fails at times: test_a_cancelled_start_together_ends_cancelled_with_nothing_left_running, test_start_together_cancelled_again_while_its_runs_stop_ends_cancelled
# ruff: noqa: E501 (the line above names every test it trips at times)
# (those two tests draw 3 to 5 names: with 3, the runs run one after another and they fail)

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

    if len(names) <= 3:
        await go.wait()
        return [await run(name) for name in names]
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
        async with self.changed:
            self.done += count
            self.changed.notify_all()

    async def wait_until(self, target):
        """Return as soon as `self.done` is at least `target` (at once if it already is),
        and not before. Waiting must sleep until the count changes: no checking it again and
        again in a loop (a sleep or a timeout between checks). A caller may give up
        waiting and cancel it: let the cancel through, so that wait_until ends cancelled,
        with nothing it started still running."""
        async with self.changed:
            await self.changed.wait_for(lambda: self.done >= target)
