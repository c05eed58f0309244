"""acquire just sleeps per/rate, with no shared record: every waiting task wakes at once."""

import asyncio


class RateLimiter:
    def __init__(self, rate, per=1.0):
        self.rate = rate
        self.per = per

    async def acquire(self):
        await asyncio.sleep(self.per / self.rate)

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
