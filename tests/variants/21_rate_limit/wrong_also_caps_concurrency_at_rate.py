"""Also holds a Semaphore(rate) over each request: never more than `rate` in flight at once."""

import asyncio
from collections import deque


class RateLimiter:
    def __init__(self, rate, per=1.0):
        self.rate = rate
        self.per = per
        self._starts = deque()  # loop.time() of the calls that started in the last `per` s

    async def acquire(self):
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


async def fetch_all_rate_limited(session, urls, rate, per=1.0):
    limiter = RateLimiter(rate, per)
    in_flight = asyncio.Semaphore(rate)

    async def fetch(url):
        async with in_flight, limiter, session.get(url) as response:
            return await response.json()

    return await asyncio.gather(*(fetch(url) for url in urls))
