"""RateLimiter.__aexit__ returns True (a learner trial's answer): an error raised in the block never
reaches the caller (a failed request becomes None), and a cancelled caller goes on after its block.
"""

# fails only: test_an_error_or_a_cancel_inside_the_block_goes_on_to_the_caller, test_a_failed_request_raises_instead_of_coming_back_as_a_body
# ruff: noqa: E501 (the line above names every test it fails)

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
        return True


async def fetch_all_rate_limited(session, urls, rate, per=1.0):
    limiter = RateLimiter(rate, per)

    async def fetch(url):
        async with limiter, session.get(url) as response:
            return await response.json()

    return await asyncio.gather(*(fetch(url) for url in urls))
