"""Records "now" as the start and only then sleeps: callers that arrive together all wake and go at once."""

import asyncio
from collections import deque


class RateLimiter:
    def __init__(self, rate, per=1.0):
        self.rate = rate
        self.per = per
        self._starts = deque()

    async def acquire(self):
        loop = asyncio.get_running_loop()
        now = loop.time()
        while self._starts and now - self._starts[0] >= self.per:
            self._starts.popleft()
        wait = self._starts[0] + self.per - now if len(self._starts) >= self.rate else 0.0
        self._starts.append(now)  # the start it records is earlier than the real one
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
