"""Exercise 18: signals between tasks, asyncio.Event and asyncio.Condition

Why
---
Sometimes a task waits not for a result but for a moment: "go", "stop", "enough is done".
An `asyncio.Event` is a flag that tasks can wait on. `await event.wait()` sleeps until
another task calls `event.set()`, and then every task waiting on it wakes up at once;
`event.is_set()` only peeks. Waiting like this costs nothing and reacts at once. Checking
the flag in a loop instead either reacts late (sleep 0.5 s between checks and you are up
to 0.5 s late) or keeps the CPU busy doing nothing.

Example (save it as demo.py and run `python demo.py`)
-------
    import asyncio, time

    async def runner(name, go, start):
        await go.wait()                      # sleeps until go.set()
        print(name, f"off at {time.perf_counter() - start:.2f} s")

    async def main():
        go, start = asyncio.Event(), time.perf_counter()
        runners = [asyncio.create_task(runner(n, go, start)) for n in ("ann", "bob", "cy")]
        await asyncio.sleep(1)               # the runners wait, using no CPU at all
        go.set()                             # ann, bob and cy: off at 1.00 s
        await asyncio.gather(*runners)

    asyncio.run(main())

To wait for "stop, or 5 s, whichever comes first", give the wait a timeout (exercise 11):
`await asyncio.wait_for(stop.wait(), timeout=5)` returns the moment stop is set, or
raises TimeoutError after 5 s.

An Event is one yes/no flag. To wait until shared state is "enough" (a count reaching
10), use an `asyncio.Condition`. A waiter does `async with cond:` and then
`await cond.wait_for(lambda: count >= 10)`, which checks first and sleeps only if it
must. Whoever changes the count does it inside `async with cond:` and then calls
`cond.notify_all()`, so every waiter wakes up and checks its own test again.

The pitfall
-----------
    while not go.is_set():
        await asyncio.sleep(0.5)     # up to 0.5 s late; with sleep(0), a busy CPU

With no `await` in such a loop it is worse: the loop freezes, no other task can run,
so nobody can ever call `go.set()` and your program hangs. And `cond.notify()` wakes
only ONE waiter; the others sleep on although their target was reached.

Your tasks
----------
Replace each `raise NotImplementedError` below. Check your work with
`python grade.py` (or `pytest tests/test_18_event.py`).
"""


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
    raise NotImplementedError


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
    raise NotImplementedError


# Task 3: wait until enough is done
class Progress:
    """Counts finished work items, and lets tasks wait until the count reaches a target.

    Add whatever else it needs to `__init__`.
    """

    def __init__(self):
        self.done = 0

    async def advance(self, count=1):
        """Add `count` to `self.done`, and wake every task waiting in `wait_until`, so
        those whose target is now reached can return."""
        raise NotImplementedError

    async def wait_until(self, target):
        """Return as soon as `self.done` is at least `target` (at once if it already is),
        and not before. Waiting must sleep until the count changes: no checking it again and
        again in a loop (a sleep or a timeout between checks). A caller may give up
        waiting and cancel it: let the cancel through, so that wait_until ends cancelled,
        with nothing it started still running."""
        raise NotImplementedError
