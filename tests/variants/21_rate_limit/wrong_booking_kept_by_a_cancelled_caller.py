"""Wrong: each caller books the earliest start the rule allows and sleeps until it; a caller
cancelled while it sleeps keeps its booking, so a later caller waits for a call never made."""

# fails only: test_a_caller_cancelled_while_it_waits_makes_no_call_and_keeps_no_place

import asyncio


class RateLimiter:
    def __init__(self, rate, per=1.0):
        self.rate = rate
        self.per = per
        self.booked = []  # start times handed out, in order

    async def acquire(self):
        now = asyncio.get_running_loop().time()
        full = len(self.booked) >= self.rate
        start = max(now, self.booked[-self.rate] + self.per) if full else now
        self.booked.append(start)
        del self.booked[: -self.rate]
        if start > now:
            await asyncio.sleep(start - now)

    async def __aenter__(self):
        await self.acquire()
        return self

    async def __aexit__(self, exc_type, exc, tb):
        return None


async def fetch_all_rate_limited(session, urls, rate, per=1.0):
    limiter = RateLimiter(rate, per)

    async def one(url):
        await limiter.acquire()
        response = await session.get(url)
        try:
            return await response.json()
        finally:
            response.release()

    tasks = [asyncio.create_task(one(url)) for url in urls]
    try:
        return [await t for t in tasks]
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)  # and wait until they have stopped
