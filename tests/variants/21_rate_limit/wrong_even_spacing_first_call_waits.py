"""Even spacing that books each start `per / rate` after now, the first too: every first call waits."""

import asyncio
import time


class RateLimiter:
    def __init__(self, rate, per=1.0):
        self.rate = rate
        self.per = per
        self._next = time.monotonic()
        self._lock = asyncio.Lock()

    async def acquire(self):
        async with self._lock:
            self._next = max(self._next, time.monotonic()) + self.per / self.rate
            await asyncio.sleep(self._next - time.monotonic())

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
