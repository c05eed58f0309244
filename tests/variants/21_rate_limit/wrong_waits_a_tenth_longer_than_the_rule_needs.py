"""Wrong: acquire sleeps 10 % longer than the rule needs (`(oldest + per - now) * 1.1`, a margin to be
safe; a learner trial's): calls start later than the docstring allows. 35-40 ms late at most, it passed
within the 0.15 s a late start was allowed before; each start is now judged to 10 ms plus the time the
limiter's loop was kept from running."""
# fails only: test_no_more_than_rate_calls_start_in_any_window
# fails at times: test_calls_arriving_late_in_a_window_do_not_double_the_rate, test_a_full_window_has_room_again_when_its_oldest_start_is_per_old
# ruff: noqa: E501 (the line above names long tests, and the self-check reads it as one line)
# (those two waits are 0.08-0.2 s long: 10 % of them is near the 10 ms allowed)

import asyncio
from collections import deque


# Task 1: a sliding-window rate limiter
class RateLimiter:
    """Lets at most `rate` calls start in any `per` seconds, across every task that shares it.

        limiter = RateLimiter(10, per=1.0)
        async with limiter:        # waits until one more call may start
            await fetch(url)

    Calls must not wait longer than the rule needs: when fewer than `rate` calls
    started in the last `per` seconds, `acquire` returns at once. (Spacing calls
    evenly, one every `per / rate` seconds, is a stricter rule that is fine too.)
    """

    def __init__(self, rate, per=1.0):
        """Remember `rate` and `per`, and start with no recorded calls."""
        self.rate = rate
        self.per = per
        self._starts = deque()  # loop.time() of the calls that started in the last `per` s

    async def acquire(self):
        """Wait until a call may start without breaking the rule, then record its start.

        If the caller is cancelled while it waits, let the cancel through and record no start:
        its call is never made and takes no place in the window.
        """
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            while self._starts and now - self._starts[0] >= self.per:
                self._starts.popleft()
            if len(self._starts) < self.rate:
                self._starts.append(now)
                return
            await asyncio.sleep((self._starts[0] + self.per - now) * 1.1)

    async def __aenter__(self):
        await self.acquire()
        return self

    async def __aexit__(self, exc_type, exc, tb):
        return None


# Task 2: many requests, one limiter
async def fetch_all_rate_limited(session, urls, rate, per=1.0):
    """GET every URL in `urls` with `session` and return their JSON bodies, in the order of `urls`.

    Run the requests at the same time as far as the limit allows: at most `rate`
    requests may start in any `per` seconds, so share ONE RateLimiter between them.
    A cancel from the caller stops it and every request it started: let it through,
    so that it ends cancelled with none of its requests still running.
    """
    limiter = RateLimiter(rate, per)

    async def fetch(url):
        async with limiter, session.get(url) as response:
            return await response.json()

    return await asyncio.gather(*(fetch(url) for url in urls))
