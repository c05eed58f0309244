"""Exercise 16: asyncio.Queue, a pool of workers

Why
---
A semaphore limits how many calls run at once, but it still wants every item up front,
one task each: a million items, a million tasks. And often the items are not known up
front: they arrive one by one, from a file, a socket, a paged API. The classic shape for
that is a queue and a fixed crew of workers. You put items on an `asyncio.Queue`; each of
N worker tasks loops: take an item (`await queue.get()`, which waits while the queue is
empty), handle it, then tell the queue it is done (`queue.task_done()`).
`await queue.join()` waits until every item ever put has been marked done. With 3
workers, 9 jobs of 1 s take 3 s.

Example (save it as demo.py and run `python demo.py`)
-------
    import asyncio, time

    async def worker(name, queue, done):
        while True:
            job = await queue.get()              # wait for the next job
            try:
                await asyncio.sleep(1)           # the work
                done[job] = name
            finally:
                queue.task_done()                # always, or join() waits forever

    async def main():
        queue, done = asyncio.Queue(), {}
        for job in range(9):
            await queue.put(job)
        workers = [asyncio.create_task(worker(f"w{n}", queue, done)) for n in range(3)]
        start = time.perf_counter()
        await queue.join()                       # every job taken AND marked done
        for task in workers:
            task.cancel()                        # they would wait for more jobs forever
        await asyncio.gather(*workers, return_exceptions=True)   # wait until they stopped
        print(done, f"{time.perf_counter() - start:.1f} s")     # {0: 'w0', 1: 'w1', ...} 3.0 s

    asyncio.run(main())

The pitfall
-----------
`join()` waits until the count of `task_done()` calls catches up with the items put.
Skip `task_done()` once (when handling an item raised, say) and `join()` waits forever:
call it in a `finally:`. An exception that escapes a worker's loop ends that worker for
good: catch it inside the loop, note it, go on. `join()` only counts items already put:
called before the last `put`, it may return at once with work still to come. And when
it returns, the workers are still there, blocked in `get()`: cancel them and wait until
they have stopped (or put one "stop" item per worker), or they outlive your function.
Python 3.13 adds a third way: call `queue.shutdown()` after the last `put`. `get()` still
hands out what is left, then raises `asyncio.QueueShutDown` once the queue is empty: each
worker catches it and returns, and you await the workers. (On 3.11 and 3.12, cancel them
or send stop items.)

A plain `Queue()` has no size limit, so a fast producer piles every item up in memory.
With `asyncio.Queue(maxsize=10)`, `await queue.put(item)` waits while the queue is full:
the producer goes only as fast as the workers do.

Your tasks
----------
Replace each `raise NotImplementedError` below. Check your work with
`python grade.py` (or `pytest tests/test_16_queue_workers.py`).
"""


# Task 1: a crew of workers
async def process_all(items, handle, workers):
    """Handle every item in `items` with `await handle(item)`, using `workers` worker tasks fed by one queue.

    Return a dict that maps each item to what `handle` returned for it. Each item is handled
    exactly once, and `workers` items are handled at the same time while enough are waiting.
    Before returning, stop the workers and wait until they have stopped: none may be left running.
    If `handle` raises, its error (the first, if several) goes on to your caller once the
    workers have stopped.
    A cancel from the caller stops it and its workers: let it through, so that it ends
    cancelled with no worker left running.
    """
    raise NotImplementedError


# Task 2: items that arrive over time
async def process_stream(source, handle, workers, maxsize):
    """Handle every item that the async iterator `source` yields, with `workers` workers.

    Items arrive over time (`async for item in source:`): put each one on a queue of at most
    `maxsize` items as it arrives, so the workers start before the source is finished, and
    while the queue is full wait instead of reading on.
    `handle(item)` raises for some items; such an item must not stop its worker. Return a
    tuple `(results, failures)` of two dicts: `results` maps each item whose handle returned
    to what it returned, `failures` maps each item whose handle raised to the exception
    object it raised. Stop the workers before returning, as in Task 1, and also when the
    source itself raises: then its error goes on to your caller, with no worker left running.
    A cancel from the caller stops it and its workers: let it through, so that it ends
    cancelled with no worker left running.
    """
    raise NotImplementedError
