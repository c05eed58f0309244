"""Exercise 10: blocking calls and heavy computing, off the event loop

Why
---
`await` only helps while your code waits *through asyncio*. Two kinds of work keep the
loop's one thread busy and freeze every task, as `time.sleep` did in exercise 04:
a plain function that blocks (a library with no async support: `requests.get`, a database
driver, reading a big file), and heavy computing (parsing, resizing images, crunching
numbers). You cannot add `await` inside someone else's code, so move the work off the loop:

- Blocking calls go to a thread: `await asyncio.to_thread(func, arg)` runs `func(arg)` in a
  worker thread while the loop keeps running. Three 1 s calls gathered this way take 1 s.
- Computing goes to other processes. Threads do not help here: only one thread at a time
  runs Python code (the GIL), so four threads of number-crunching take as long as doing it
  all on one, and the loop stutters meanwhile. A `ProcessPoolExecutor` runs the function in
  separate processes, one per CPU core: `await loop.run_in_executor(pool, func, arg)`.
  That is what "don't use async for CPU-bound work" means: asyncio cannot make computing
  faster; it can only hand the computing to someone else and wait.

Example (save it as demo.py and run `python demo.py`)
-------
    import asyncio, time
    from concurrent.futures import ProcessPoolExecutor

    def download(n):          # a blocking library call
        time.sleep(1)
        return n

    def crunch(n):            # pure computing
        return sum(i * i for i in range(n))

    async def main():
        start = time.perf_counter()
        files = await asyncio.gather(*(asyncio.to_thread(download, n) for n in range(3)))
        print(files, f"{time.perf_counter() - start:.1f} s")        # [0, 1, 2] 1.0 s

        loop = asyncio.get_running_loop()
        with ProcessPoolExecutor() as pool:
            sums = await asyncio.gather(*(loop.run_in_executor(pool, crunch, n) for n in (10, 10**7)))
        print(sums)

    if __name__ == "__main__":    # each pool process imports this file: keep the start guarded
        asyncio.run(main())

The pitfall
-----------
    files = [download(n) for n in range(3)]                             # 3 s, loop frozen
    files = [await asyncio.to_thread(download, n) for n in range(3)]    # loop free, still 3 s

The first blocks the loop. The second keeps it free but waits for each call before starting
the next one: gather them, as in exercise 02. A function sent to another process is found
there by its name, so it must be a top-level `def` in a module, not a lambda.

Your tasks
----------
Replace each `raise NotImplementedError` below. Check your work with
`python grade.py` (or `pytest tests/test_10_cpu_bound.py`).
"""


# Task 1: blocking calls in threads
async def fetch_reports(fetch_report, report_ids):
    """`fetch_report(report_id)` is a plain, blocking function (not async): each call takes
    a while, then returns a report.

    Call it for every id in `report_ids` (an id listed twice is fetched twice), all at the
    same time, without freezing the event loop. Return the reports as a list, in the same
    order as `report_ids`.
    If the caller cancels fetch_reports, let the cancel through, so that it ends cancelled
    with none of the tasks it started still running.
    """
    raise NotImplementedError


# Task 2: heavy computing in other processes
async def count_primes_in_pool(pool, count_primes, limits):
    """`count_primes(limit)` is pure computing: it keeps a CPU core busy for a while, then
    returns a number. `pool` is a `concurrent.futures.ProcessPoolExecutor`.

    Run `count_primes(limit)` in `pool` for every limit in `limits` (repeats included), all at
    the same time (the pool runs as many at once as it has processes), without freezing the
    event loop.
    Return the counts as a list, in the same order as `limits`. The pool belongs to the
    caller: use it, but do not shut it down.
    Wait for the counts with `await`, not by checking on the jobs again and again.
    """
    raise NotImplementedError
