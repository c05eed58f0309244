"""A Semaphore(rate) as the limiter: it bounds calls in flight, not starts per window."""

import asyncio


class RateLimiter:
    def __init__(self, rate, per=1.0):
        self._semaphore = asyncio.Semaphore(rate)

    async def acquire(self):
        await self._semaphore.acquire()

    async def __aenter__(self):
        await self.acquire()
        return self

    async def __aexit__(self, exc_type, exc, tb):
        self._semaphore.release()


async def fetch_all_rate_limited(session, urls, rate, per=1.0):
    limiter = RateLimiter(rate, per)

    async def fetch(url):
        async with limiter, session.get(url) as response:
            return await response.json()

    return await asyncio.gather(*(fetch(url) for url in urls))
