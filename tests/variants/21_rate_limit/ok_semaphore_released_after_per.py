"""Correct: a Semaphore(rate) whose slot is given back `per` seconds after each start (call_later)."""

import asyncio


class RateLimiter:
    def __init__(self, rate, per=1.0):
        self.per = per
        self._slots = asyncio.Semaphore(rate)

    async def acquire(self):
        await self._slots.acquire()
        asyncio.get_running_loop().call_later(self.per, self._slots.release)

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

    if not urls:
        return []
    tasks = [asyncio.create_task(fetch(url)) for url in urls]
    try:
        await asyncio.wait(tasks)
    finally:  # cancelled (or done), no request is left running
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return [task.result() for task in tasks]
