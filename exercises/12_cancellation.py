"""Exercise 12: cancellation, stop cleanly

Why
---
A timeout (exercise 11), a user who hangs up, a server shutting down: they all stop
work by cancelling a task. `task.cancel()` kills nothing on the spot. It throws
`asyncio.CancelledError` into the coroutine at the `await` where it is paused, and
that error travels up like any other: `finally` blocks run (and may `await`, to close
a connection say), `async with` blocks clean up, and once it comes out of the top the
task is marked cancelled: `task.cancelled()` is True and `await task` raises
CancelledError.

Example (save it as demo.py and run `python demo.py`)
-------
    import asyncio

    async def worker():
        print("connect")
        try:
            await asyncio.sleep(10)            # cancel() lands here
        except asyncio.CancelledError:
            print("cancelled, tidying up")
            raise                              # ... and go on stopping
        finally:
            print("disconnect")                # runs in every case

    async def main():
        task = asyncio.create_task(worker())
        await asyncio.sleep(0.1)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            print("stopped:", task.cancelled())   # stopped: True, after 0.1 s, not 10

    asyncio.run(main())

The pitfall
-----------
    except asyncio.CancelledError:
        pass                                   # the task carries on as if nothing happened

This swallows the request: the task returns normally, whoever cancelled it never sees
it stop, and an `asyncio.timeout` around it can no longer time out. Catch it to tidy
up if you must, then `raise` it again. CancelledError is a BaseException, not an
Exception (since Python 3.8), so `except Exception:` lets it through, as it should;
`except BaseException:` and a bare `except:` catch it.

Some work must not be cut off halfway, such as writing an order. `await
asyncio.shield(save(order))` protects it: cancelling your task still stops your task
at once, while the save runs on to its end. (Not past the end of `asyncio.run`,
though: that cancels every task still running.)

Your tasks
----------
Replace each `raise NotImplementedError` below. Check your work with
`python grade.py` (or `pytest tests/test_12_cancellation.py`).
"""


# Task 1: give back what you hold, even when cancelled
async def run_job(pool, job):
    """Borrow a connection with `conn = await pool.acquire()`, then return `await job(conn)`.

    Give the connection back with `await pool.release(conn)` however the job ends: it
    returned, it raised, or the task running run_job was cancelled while the job ran.
    The job's error, or the cancellation, must still reach the caller. If the release itself
    raises after a job that returned, let its error reach the caller.
    """
    raise NotImplementedError


# Task 2: say you were cancelled, then stop
async def run_and_report(job, report):
    """Return `await job()`, and tell `report` how the job ended, once.

    Call `report("done")` when the job returned, and `report("failed")` when it raised an
    exception, whatever its class (a TimeoutError of the job's own, or a BaseException that is
    not an Exception, as KeyboardInterrupt is: only a cancel of this task is "cancelled"), then
    let that exception go on. When the task running run_and_report is cancelled, call
    `report("cancelled")` and go on stopping: the task must end up cancelled
    (`task.cancelled()` is True).
    """
    raise NotImplementedError


# Task 3: work that must not be cut off
async def save_order(save, order):
    """Store `order` with `await save(order)` and return what save returned.

    If the task running save_order is cancelled while the save is under way, save_order
    must end cancelled, but the save itself must run on to its end (and run only once).
    If the save raises, let its error reach the caller, without saving again.
    """
    raise NotImplementedError
