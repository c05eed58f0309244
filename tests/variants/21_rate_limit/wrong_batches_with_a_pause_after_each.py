"""Wrong: fetch_all_rate_limited runs the URLs in batches of `rate` and pauses a whole `per` after
each batch has ENDED, with no limiter: no window ever holds more than `rate` starts, but each batch
waits for the slowest request of the one before, and then a whole window more."""

# fails only: test_requests_overlap_and_end_as_soon_as_the_rate_allows

import asyncio
from collections import deque


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
        self.rate = rate
        self.per = per
        self._starts = deque()  # loop.time() of the calls that started in the last `per` s

    async def acquire(self):
        """Wait until a call may start without breaking the rule, then record its start."""
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            while self._starts and now - self._starts[0] >= self.per:
                self._starts.popleft()
            if len(self._starts) < self.rate:
                self._starts.append(now)
                return
            await asyncio.sleep(self._starts[0] + self.per - now)

    async def __aenter__(self):
        await self.acquire()
        return self

    async def __aexit__(self, exc_type, exc, tb):
        return None


# Task 2: many requests, one limiter
async def fetch_all_rate_limited(session, urls, rate, per=1.0):
    async def fetch(url):
        async with session.get(url) as response:
            return await response.json()

    results = []
    for i in range(0, len(urls), rate):
        results += await asyncio.gather(*(fetch(u) for u in urls[i : i + rate]))
        if i + rate < len(urls):
            await asyncio.sleep(per)
    return results
