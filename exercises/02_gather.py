"""Exercise 02: asyncio.gather, several calls at once

Why
---
Most of the time a program "waiting on the network" is doing nothing at all. If you
need three answers that each take 2 seconds, asking one after another costs 6 s;
asking all three at once costs about 2 s. `asyncio.gather` starts several awaitables
together, waits for all of them, and hands back their results *in the order you
passed them in*, not in the order they finished.

Example (save it as demo.py and run `python demo.py`)
-------
    import asyncio, time

    async def slow_double(x):
        await asyncio.sleep(1)
        return x * 2

    async def main():
        start = time.perf_counter()
        results = await asyncio.gather(slow_double(1), slow_double(2), slow_double(3))
        print(results, f"{time.perf_counter() - start:.1f} s")   # [2, 4, 6] 1.0 s

    asyncio.run(main())

The pitfall
-----------
    results = [await slow_double(x) for x in (1, 2, 3)]   # 3.0 s: one after another

Each `await` here waits for one call to finish before the next one even starts.
`gather` takes the coroutines themselves (not awaited), so unpack a list with `*`:
`await asyncio.gather(*coros)`.

Your tasks
----------
Replace each `raise NotImplementedError` below. Check your work with
`python grade.py` (or `pytest tests/test_02_gather.py`).
"""


# Task 1: fetch every user at once
async def fetch_all(fetch_user, user_ids):
    """Call `await fetch_user(user_id)` for every id in `user_ids`, all at the same time.

    Return a list of the results, in the same order as `user_ids`. If a call raises, let its
    error reach the caller.
    """
    raise NotImplementedError


# Task 2: two different calls at once
async def fetch_profile(get_user, get_orders, user_id):
    """Fetch a user and that user's orders at the same time.

    `await get_user(user_id)` and `await get_orders(user_id)` each take a while.
    Return `{"user": <what get_user returned>, "orders": <what get_orders returned>}`.
    """
    raise NotImplementedError
