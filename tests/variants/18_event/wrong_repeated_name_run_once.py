"""Wrong: a name that appears twice in `names` is run once, and its result used for both.

The docstring says: "call `await run(name)` for every name in `names`". Each name in the list
is one call.
"""

# fails only: test_results_come_back_in_the_order_of_the_names, test_a_name_listed_twice_is_run_twice_each_result_in_its_own_place
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio
import contextlib


# Task 1: start together on a signal
async def start_together(run, names, go):
    """Wait for `go` (an asyncio.Event) to be set, then call `await run(name)` for every
    name in `names`, all at the same time.

    No call may start before `go` is set, and all of them start the moment it is.
    Return a list of the results, in the same order as `names`.
    """

    async def runner(name):
        await go.wait()
        return await run(name)

    unique = list(dict.fromkeys(names))  # the mistake on show: a repeated name runs once
    results = dict(zip(unique, await asyncio.gather(*(runner(name) for name in unique)), strict=True))
    return [results[name] for name in names]


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
