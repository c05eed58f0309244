"""Counts starts per clock window (loop.time() // per): bursts on both sides of an edge go together."""

import asyncio
import math


class RateLimiter:
    def __init__(self, rate, per=1.0):
        self.rate = rate
        self.per = per
        self._window = None
        self._count = 0

    async def acquire(self):
        loop = asyncio.get_running_loop()
        while True:
            window = math.floor(loop.time() / self.per)
            if window != self._window:
                self._window, self._count = window, 0
            if self._count < self.rate:
                self._count += 1
                return
            await asyncio.sleep((window + 1) * self.per - loop.time())

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
