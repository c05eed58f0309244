"""A counter reset by a timer every `per` seconds: a burst before a reset and one after it go together."""

import asyncio


class RateLimiter:
    def __init__(self, rate, per=1.0):
        self.rate = rate
        self.per = per
        self._count = 0
        self._reset = None  # set when the counter is reset; made on the first acquire

    def _tick(self):
        self._count = 0
        self._reset.set()
        self._reset = asyncio.Event()
        asyncio.get_running_loop().call_later(self.per, self._tick)

    async def acquire(self):
        if self._reset is None:
            self._reset = asyncio.Event()
            asyncio.get_running_loop().call_later(self.per, self._tick)
        while self._count >= self.rate:
            await self._reset.wait()
        self._count += 1

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
