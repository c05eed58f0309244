"""Mistake: the limiter's window is 30 ms short of `per` ("a little slack for clock jitter"): a
start forgotten when it is `per - 0.03` old lets the next call in 30 ms too soon. It fitted in the
tests' 50 ms tolerance for a loaded machine and passed (two red teams'); where the limiter's loop is
timed the window is judged to within 10 ms plus the time the loop was starved."""

# fails only: test_no_more_than_rate_calls_start_in_any_window, test_calls_arriving_late_in_a_window_do_not_double_the_rate
# fails at times: test_a_full_window_has_room_again_when_its_oldest_start_is_per_old
# ruff: noqa: E501 (the line above names every test it fails)

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
        self.rate = rate
        self.per = per - 0.03  # "a little slack for clock jitter"
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
            await asyncio.sleep(self._starts[0] + self.per - now)

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
