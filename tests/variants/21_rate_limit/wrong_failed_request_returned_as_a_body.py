"""fetch_all_rate_limited gathers with `return_exceptions=True` (a learner trial's answer): a failed
request's error comes back in the list, in the place of its body, and never reaches the caller.
"""

# fails only: test_a_failed_request_raises_instead_of_coming_back_as_a_body

import asyncio
from collections import deque


class RateLimiter:
    def __init__(self, rate, per=1.0):
        self.rate = rate
        self.per = per
        self._starts = deque()

    async def acquire(self):
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            while self._starts and now - self._starts[0] >= self.per:
                self._starts.popleft()
            if len(self._starts) < self.rate:
                self._starts.append(now)
                return
            await asyncio.sleep(self._starts[0] + self.per - now)

    async def __aenter__(self):
        await self.acquire()
        return self

    async def __aexit__(self, exc_type, exc, tb):
        return None


async def fetch_all_rate_limited(session, urls, rate, per=1.0):
    limiter = RateLimiter(rate, per)

    async def fetch(url):
        async with limiter, session.get(url) as response:
            response.raise_for_status()
            return await response.json()

    return await asyncio.gather(*(fetch(url) for url in urls), return_exceptions=True)
