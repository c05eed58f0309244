"""Wrong: a cancelled wait returns from `acquire` normally, so the cancelled caller makes its call anyway."""

import asyncio
from collections import deque


class RateLimiter:
    def __init__(self, rate, per=1.0):
        self.rate = rate
        self.per = per
        self.starts = deque()

    async def acquire(self):
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            while self.starts and now - self.starts[0] >= self.per:
                self.starts.popleft()
            if len(self.starts) < self.rate:
                self.starts.append(now)
                return
            try:
                await asyncio.sleep(self.starts[0] + self.per - now)
            except asyncio.CancelledError:
                return  # the wait was cut short: let the call go ahead

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
