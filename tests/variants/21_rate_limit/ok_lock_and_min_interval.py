"""Correct (stricter): an asyncio.Lock, and at least per/rate seconds between two starts; as_completed."""

import asyncio


class RateLimiter:
    def __init__(self, rate, per=1.0):
        self.interval = per / rate
        self._last = None
        self._lock = asyncio.Lock()

    async def acquire(self):
        loop = asyncio.get_running_loop()
        async with self._lock:
            if self._last is not None:
                await asyncio.sleep(max(0.0, self._last + self.interval - loop.time()))
            self._last = loop.time()

    async def __aenter__(self):
        await self.acquire()
        return self

    async def __aexit__(self, exc_type, exc, tb):
        return None


async def fetch_all_rate_limited(session, urls, rate, per=1.0):
    limiter = RateLimiter(rate, per)

    async def fetch(index, url):
        async with limiter, session.get(url) as response:
            return index, await response.json()

    bodies = [None] * len(urls)
    # Tasks of its own, not bare coroutines: as_completed would wrap those in tasks nothing can
    # cancel, left running when the caller cancels this function.
    tasks = [asyncio.create_task(fetch(i, url)) for i, url in enumerate(urls)]
    try:
        for next_done in asyncio.as_completed(tasks):
            index, body = await next_done
            bodies[index] = body
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return bodies
