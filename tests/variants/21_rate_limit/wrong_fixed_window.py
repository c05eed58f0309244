"""A counter reset every `per` seconds (fixed window): bursts on both sides of a reset double the rate."""

import asyncio


class RateLimiter:
    def __init__(self, rate, per=1.0):
        self.rate = rate
        self.per = per
        self._window_start = None
        self._count = 0

    async def acquire(self):
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            if self._window_start is None or now - self._window_start >= self.per:
                self._window_start, self._count = now, 0
            if self._count < self.rate:
                self._count += 1
                return
            await asyncio.sleep(self._window_start + self.per - now)

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
