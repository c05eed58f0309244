"""Wrong: an even-spacing RateLimiter (a stricter rule that is fine), but kept for each (rate, per)
in the module: a second call with the same rate waits for the first call's next slot."""
# fails only: test_a_second_call_starts_with_a_budget_of_its_own

import asyncio


class RateLimiter:
    def __init__(self, rate, per=1.0):
        self.interval = per / rate
        self._next = 0.0

    async def acquire(self):
        now = asyncio.get_running_loop().time()
        start = max(now, self._next)
        self._next = start + self.interval
        await asyncio.sleep(start - now)

    async def __aenter__(self):
        await self.acquire()
        return self

    async def __aexit__(self, exc_type, exc, tb):
        return None


_limiters = {}  # (rate, per) -> the RateLimiter every call with them shares


async def fetch_all_rate_limited(session, urls, rate, per=1.0):
    limiter = _limiters.setdefault((rate, per), RateLimiter(rate, per))  # the mistake on show

    async def fetch(url):
        async with limiter, session.get(url) as response:
            return await response.json()

    return await asyncio.gather(*(fetch(url) for url in urls))
