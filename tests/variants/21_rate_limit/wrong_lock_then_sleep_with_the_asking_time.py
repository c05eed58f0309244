"""Works out the wait under a lock, records the asking time, sleeps outside it: waiters go together."""

import asyncio
import time


class RateLimiter:
    def __init__(self, rate, per=1.0):
        self.rate = rate
        self.per = per
        self._starts = []
        self._lock = asyncio.Lock()

    async def acquire(self):
        async with self._lock:
            now = time.monotonic()
            self._starts = [t for t in self._starts if now - t < self.per]
            wait = 0.0
            if len(self._starts) >= self.rate:
                wait = self._starts[-self.rate] + self.per - now
            self._starts.append(now)
        await asyncio.sleep(wait)

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
