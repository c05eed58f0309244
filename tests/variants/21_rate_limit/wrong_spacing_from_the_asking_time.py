"""Even spacing that remembers when the last call asked instead of when it was let start: waiters bunch up."""

import asyncio


class RateLimiter:
    def __init__(self, rate, per=1.0):
        self.interval = per / rate
        self._last = None

    async def acquire(self):
        now = asyncio.get_running_loop().time()
        start = now if self._last is None else max(now, self._last + self.interval)
        self._last = now
        await asyncio.sleep(start - now)

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
