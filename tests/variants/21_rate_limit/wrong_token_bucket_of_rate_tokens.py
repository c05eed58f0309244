"""A token bucket of `rate` tokens refilling one every per/rate s: up to 2 x rate - 1 start in one window."""

import asyncio


class RateLimiter:
    def __init__(self, rate, per=1.0):
        self.capacity = rate
        self.refill = rate / per  # tokens per second
        self._tokens = float(rate)
        self._updated = None

    async def acquire(self):
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            if self._updated is not None:
                self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.refill)
            self._updated = now
            if self._tokens >= 1:
                self._tokens -= 1
                return
            await asyncio.sleep((1 - self._tokens) / self.refill)

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
