"""Exercise 21: rate limiting, no more than R requests per second

Why
---
Most web APIs allow so many requests per second, say 10, and answer
"429 Too Many Requests" (or block you for a while) when you send more. A semaphore
(exercise 15) does not help here: it bounds how many requests are *in flight*, not
how many *start* per second. With replies that take 10 ms, `Semaphore(10)` lets
about 1000 requests start every second. A rate limiter bounds starts over time.

This exercise uses a sliding window: remember when the last `rate` calls started;
a new call may start only once the oldest of them is `per` seconds old. Then no
stretch of `per` seconds ever holds more than `rate` starts. With 10 per second,
25 calls start 10 at 0 s, 10 at 1 s and 5 at 2 s.

Example (save it as demo.py and run `python demo.py`)
-------
    import asyncio
    from collections import deque

    async def main():
        loop = asyncio.get_running_loop()
        starts = deque()                   # when the recent calls started (loop.time())
        began = loop.time()
        for n in range(5):                 # at most 2 calls in any 1 s
            if len(starts) == 2:
                oldest = starts.popleft()
                await asyncio.sleep(max(0.0, oldest + 1.0 - loop.time()))
            starts.append(loop.time())
            print(f"call {n} starts at {loop.time() - began:.1f} s")   # 0.0 0.0 1.0 1.0 2.0

    asyncio.run(main())

The pitfall
-----------
That loop has one caller. A limiter shared by many tasks must check again after
it wakes up (a `while` loop, not an `if`): while it slept, another task may have
taken the free place. A limiter made inside each task limits nothing, since every
task then has a whole window to itself: make ONE and share it. And wait with
`await asyncio.sleep(...)`: `time.sleep` would stop every task, not just this one.

Your tasks
----------
Replace each `raise NotImplementedError` below. Check your work with
`python grade.py` (or `pytest tests/test_21_rate_limit.py`).
"""


# Task 1: a sliding-window rate limiter
class RateLimiter:
    """Lets at most `rate` calls start in any `per` seconds, across every task that shares it.

        limiter = RateLimiter(10, per=1.0)
        async with limiter:        # waits until one more call may start
            await fetch(url)

    Calls must not wait longer than the rule needs: when fewer than `rate` calls
    started in the last `per` seconds, `acquire` returns at once. (Spacing calls
    evenly, one every `per / rate` seconds, is a stricter rule that is fine too.)
    """

    def __init__(self, rate, per=1.0):
        """Remember `rate` and `per`, and start with no recorded calls."""
        raise NotImplementedError

    async def acquire(self):
        """Wait until a call may start without breaking the rule, then record its start.

        If the caller is cancelled while it waits, let the cancel through and record no start:
        its call is never made and takes no place in the window.
        """
        raise NotImplementedError

    async def __aenter__(self):
        await self.acquire()
        return self

    async def __aexit__(self, exc_type, exc, tb):
        return None


# Task 2: many requests, one limiter
async def fetch_all_rate_limited(session, urls, rate, per=1.0):
    """GET every URL in `urls` with `session` and return their JSON bodies, in the order of `urls`.

    Run the requests at the same time as far as the limit allows: at most `rate`
    requests may start in any `per` seconds, so share ONE RateLimiter between them.
    A cancel from the caller stops it and every request it started: let it through,
    so that it ends cancelled with none of its requests still running.
    """
    raise NotImplementedError
