"""Exercise 04: asyncio.sleep, not time.sleep

Why
---
An event loop runs one task at a time. A task hands the loop back only at an `await`,
and that is the moment every other task gets to run. `time.sleep(1)` has no `await`:
it stops the whole thread, so for that second nothing else happens, no other task,
no timer, no reply. `await asyncio.sleep(1)` pauses only your task and lets the loop
run everything else meanwhile. Three tasks that each wait 1 s with `asyncio.sleep`
are done after about 1 s; with `time.sleep` they take 3 s, even inside `gather`.

Example (save it as demo.py and run `python demo.py`)
-------
    import asyncio, time

    async def nap(how):
        if how == "time.sleep":
            time.sleep(1)              # the whole loop stops for 1 s
        else:
            await asyncio.sleep(1)     # only this task pauses

    async def main():
        for how in ("time.sleep", "asyncio.sleep"):
            start = time.perf_counter()
            await asyncio.gather(nap(how), nap(how), nap(how))
            print(how, f"{time.perf_counter() - start:.1f} s")   # 3.0 s, then 1.0 s

    asyncio.run(main())

The pitfall
-----------
Blocking code looks fine: it returns the right answer and raises no error. The damage
only shows when something else should run at the same time, and then everything stalls.
Any plain call that waits (`time.sleep`, a busy `while` loop, a blocking library call)
inside `async def` freezes the loop. Inside async code, wait with `await asyncio.sleep(...)`.
(Exercise 10 shows what to do with blocking code you cannot rewrite.)

Your tasks
----------
This time the code is already written, and it works, but it freezes the event loop.
Find the blocking waits and fix them. Check your work with `python grade.py`
(or `pytest tests/test_04_blocking.py`).
"""

import asyncio
import time


# Task 1: wait between checks without freezing the loop
async def poll_until_ready(check, interval):
    """Ask `await check()` whether a job is done, until it is.

    `check()` returns None while the job is still running, and the job's result once it is
    done. Check once right away; while the answer is None, wait `interval` seconds and check
    again. Return the first answer that is not None. Other tasks must keep running while
    this function waits.
    """
    result = await check()
    while result is None:
        time.sleep(interval)
        result = await check()
    return result


# Task 2: let the reminders count down together
async def remind(send, message, delay):
    """Wait `delay` seconds, then `await send(message)`."""
    time.sleep(delay)
    await send(message)


async def send_reminders(send, reminders):
    """`reminders` is a list of `(delay, message)` pairs. Send every message `delay` seconds
    after send_reminders starts, with `await send(message)`.

    All the countdowns run at the same time, however many reminders there are: a 0.1 s
    reminder goes out after 0.1 s, even when it is listed after a 0.5 s one, and the whole
    call takes as long as the longest delay.

    If a `send` raises, let its error reach the caller.
    """
    await asyncio.gather(*(remind(send, message, delay) for delay, message in reminders))
