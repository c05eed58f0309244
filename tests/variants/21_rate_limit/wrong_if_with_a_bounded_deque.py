"""A deque(maxlen=rate) and one check (if, not while): waiters that wake together all go."""

import asyncio
import time
from collections import deque


class RateLimiter:
    def __init__(self, rate, per=1.0):
        self.rate = rate
        self.per = per
        self._starts = deque(maxlen=rate)

    async def acquire(self):
        if len(self._starts) == self.rate:
            wait = self._starts[0] + self.per - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        self._starts.append(time.monotonic())

    async def __aenter__(self):
        await self.acquire()
        return self

    async def __aexit__(self, exc_type, exc, tb):
        return None


async def fetch_all_rate_limited(session, urls, rate, per=1.0):
    limiter = RateLimiter(rate, per)

    async def fetch(url):
        async with limiter, session.get(url) as response:
            return await response.json()

    return await asyncio.gather(*(fetch(url) for url in urls))
