"""Correct: a counter of free slots under a Condition; each slot comes back `per` s after its call
started, by a timer that holds the coroutine giving it back, made when the timer is set
(`call_later(per, partial(loop.create_task, self._give_back()))`; a learner trial's). The timers
still pending when a test ends end with it: in one process their coroutines once became
"never awaited" errors in pytest's teardown, while judge mode passed (kata.testing.timers)."""

import asyncio
from functools import partial


class RateLimiter:
    """A counter of free slots under a Condition; each slot comes back `per` s after it was used."""

    def __init__(self, rate, per=1.0):
        self.rate = rate
        self.per = per
        self.free = rate
        self.cond = asyncio.Condition()

    async def _give_back(self):
        async with self.cond:
            self.free += 1
            self.cond.notify()

    async def acquire(self):
        async with self.cond:
            await self.cond.wait_for(lambda: self.free > 0)
            self.free -= 1
        loop = asyncio.get_running_loop()
        loop.call_later(self.per, partial(loop.create_task, self._give_back()))

    async def __aenter__(self):
        await self.acquire()
        return self

    async def __aexit__(self, exc_type, exc, tb):
        return None


async def fetch_all_rate_limited(session, urls, rate, per=1.0):
    limiter = RateLimiter(rate, per)

    async def one(url):
        async with limiter, session.get(url) as r:
            return await r.json()

    async with asyncio.TaskGroup() as tg:
        jobs = [tg.create_task(one(u)) for u in urls]
    return [j.result() for j in jobs]
