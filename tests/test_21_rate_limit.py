"""Exercise 21: at most `rate` calls start in any `per` seconds, and none waits longer than needed.

Task 1 drives the learner's RateLimiter from tasks the test starts itself, with an
instrumented FakeService behind it. Task 2 is measured where a real rate limit is
enforced: on the server (a LoopbackServer on 127.0.0.1 records when each request
arrived). Windows are short (0.3-0.4 s) to keep the tests fast.
"""

import asyncio

import aiohttp
import pytest

from kata.testing import (
    FakeService,
    LoopbackServer,
    assert_call_count,
    assert_same,
    draw_timeline,
    margins,
    stopwatch,
)

# A start may look this much earlier than it was (scheduling, a new TCP connection):
# windows are checked as `per - TOLERANCE` long. Measured skew on loopback: ~3 ms.
TOLERANCE = 0.05
# How much later than the rule allows the last call may start (a loaded machine).
LATE_SLACK = 0.15


@pytest.fixture
async def server():
    """A real HTTP server on 127.0.0.1, in this test's own event loop."""
    async with LoopbackServer() as loopback:
        yield loopback


def busiest_window(starts, window):
    """(count, first, last): the most starts that fall within `window` seconds of each other."""
    starts = sorted(starts)
    best = (0, 0.0, 0.0)
    for i, first in enumerate(starts):
        inside = [s for s in starts[i:] if s - first < window]
        if len(inside) > best[0]:
            best = (len(inside), first, inside[-1])
    return best


def assert_rate_kept(service, rate, per, why):
    """No `per`-second stretch (less a little clock noise) holds more than `rate` starts."""
    origin = min(call.start for call in service.calls)
    starts = [call.start - origin for call in service.calls]
    ordered = sorted(starts)
    if len(ordered) > rate:  # the tightest rate + 1 starts: a span under `per` means one start too many
        tightest = min(later - earlier for earlier, later in zip(ordered, ordered[rate:], strict=False))
        margins.record(
            "21 rate kept: rate + 1 starts span >= per - TOLERANCE", tightest, per - TOLERANCE, upper=False
        )
    count, first, last = busiest_window(starts, per - TOLERANCE)
    if count > rate:
        raise AssertionError(
            f"{count} {what_started(service)} started within {per:.2f} s (from {first:.2f} s to "
            f"{last:.2f} s); at most {rate} may. {why}\n"
            f"observed:\n{draw_timeline(service.calls, service.name)}"
        )


def what_started(service):
    return "requests" if isinstance(service, LoopbackServer) else "calls"


def last_allowed_start(arrivals, rate, per):
    """When the last call may start under the sliding-window rule, all waiting no longer than needed."""
    starts = []
    for at in sorted(arrivals):
        start = at if len(starts) < rate else max(at, starts[-rate] + per)
        starts.append(start)
    return starts[-1]


async def through_limiter(limiter, service, arrivals, give_up_after):
    """One task per arrival time: it sleeps until then, and calls `service(n)` inside `async with limiter`.

    Returns the seconds the whole run took, or fails when it is still running after
    `give_up_after` seconds (a limiter that waits far too long).
    """

    async def arrive(at, n):
        await asyncio.sleep(at)
        async with limiter:
            return await service(n)

    with stopwatch() as run:
        try:
            async with asyncio.timeout(give_up_after):
                await asyncio.gather(*(arrive(at, n) for n, at in enumerate(arrivals)))
        except TimeoutError:
            started = len(service.calls)
            raise AssertionError(
                f"after {give_up_after:.2f} s only {started} of {len(arrivals)} calls had started; "
                "the limiter makes calls wait far longer than the rule needs.\n"
                f"observed:\n{draw_timeline(service.calls, service.name)}"
            ) from None
    return run


def assert_no_needless_wait(service, run, arrivals, rate, per):
    """The last call started about when the rule first allows it, not much later."""
    allowed = last_allowed_start(arrivals, rate, per)
    last = max(call.start for call in service.calls) - run.started
    if margins.over(
        last, allowed + LATE_SLACK, "21 limiter: the last call starts < its first allowed start + LATE_SLACK"
    ):
        raise AssertionError(
            f"the last of {len(arrivals)} calls started at {last:.2f} s; with {rate} calls allowed per "
            f"{per:.2f} s it may start at {allowed:.2f} s. The limiter makes calls wait longer than "
            "the rule needs: wait only until the oldest recorded start is `per` seconds old (not a "
            "whole window each time), and do not hold the limiter while the call runs.\n"
            f"observed:\n{draw_timeline(service.calls, service.name)}"
        )


# -- Task 1 ----------------------------------------------------------------------


@pytest.mark.task(1)
async def test_no_more_than_rate_calls_start_in_any_window(ex, rng):
    rate, per = 3, 0.3
    arrivals = [0.0] * 5
    limiter = ex.RateLimiter(rate, per)
    service = FakeService("call", delay=0.01)

    await through_limiter(limiter, service, arrivals, give_up_after=1.5)

    assert_call_count(service, len(arrivals))
    assert_rate_kept(
        service,
        rate,
        per,
        "Each call records when it started; a new one waits until fewer than `rate` starts are "
        "younger than `per` seconds. (A Semaphore bounds calls in flight, not starts per second.)",
    )


@pytest.mark.task(1)
async def test_calls_start_as_soon_as_the_rate_allows(ex, rng):
    rate, per = 3, 0.3
    arrivals = [0.0] * 4
    limiter = ex.RateLimiter(rate, per)
    # Calls that take a while: a limiter must not hold them back until the previous ones end.
    service = FakeService("call", delay=0.2)

    run = await through_limiter(limiter, service, arrivals, give_up_after=1.5)

    assert_call_count(service, len(arrivals))
    first = min(call.start for call in service.calls) - run.started
    if margins.over(first, LATE_SLACK, "21 limiter: the first call starts < LATE_SLACK after asking"):
        raise AssertionError(
            f"the first call started {first:.2f} s after it asked; nothing had started yet, so "
            "`acquire` should return at once."
        )
    assert_no_needless_wait(service, run, arrivals, rate, per)


@pytest.mark.task(1)
async def test_calls_arriving_late_in_a_window_do_not_double_the_rate(ex, rng):
    # A counter reset every `per` seconds ("fixed window") lets the calls at 0.2 s and
    # those just after the reset at 0.3 s through together: 5 within 0.15 s.
    rate, per = 3, 0.3
    arrivals = [0.0, 0.2, 0.2, 0.35, 0.35, 0.35, 0.35]
    limiter = ex.RateLimiter(rate, per)
    service = FakeService("call", delay=0.01)

    run = await through_limiter(limiter, service, arrivals, give_up_after=1.5)

    assert_call_count(service, len(arrivals))
    assert_rate_kept(
        service,
        rate,
        per,
        "The rule holds for ANY stretch of `per` seconds, not just for fixed windows that start "
        "every `per` seconds: a counter reset on a timer lets a burst at the end of one window "
        "and another at the start of the next through together. Remember the start time of each "
        "recent call instead.",
    )
    assert_no_needless_wait(service, run, arrivals, rate, per)


@pytest.mark.task(1)
async def test_each_limiter_has_its_own_budget(ex, rng):
    rate, per = 2, 0.3
    first, second = ex.RateLimiter(rate, per), ex.RateLimiter(rate, per)
    service = FakeService("call", delay=0.01)

    async def call_through(limiter, n):
        async with limiter:
            return await service(n)

    # Calls 0 and 1 use up the first limiter's window; call 2 is the second limiter's first.
    with stopwatch() as run:
        await asyncio.gather(*(call_through(limiter, n) for n, limiter in enumerate([first, first, second])))

    waited = next(call.start for call in service.calls if call.args == (2,)) - run.started
    if waited > per / 3:
        raise AssertionError(
            f"the first call through a second RateLimiter({rate}, per={per}) waited {waited:.2f} s, "
            "though nothing had gone through that limiter yet: two limiters share one record of "
            "starts. Keep it on `self` (set it up in `__init__`), not on the class or in a global.\n"
            f"observed:\n{draw_timeline(service.calls, service.name)}"
        )


# -- Task 2 ----------------------------------------------------------------------


def item(item_id):
    return {"id": item_id, "name": f"item-{item_id}"}


async def fetch_all(ex, server, urls, rate, per, give_up_after, headers=None):
    """fetch_all_rate_limited's result with a session the test owns, cut off after `give_up_after` s."""
    async with aiohttp.ClientSession(headers=headers) as session:
        try:
            async with asyncio.timeout(give_up_after):
                return await ex.fetch_all_rate_limited(session, urls, rate, per)
        except TimeoutError:
            raise AssertionError(
                f"after {give_up_after:.2f} s only {len(server.requests)} of {len(urls)} requests had "
                f"reached the server; at {rate} per {per:.2f} s they can all start within "
                f"{last_allowed_start([0.0] * len(urls), rate, per):.2f} s. Requests that wait for "
                "each other (one at a time) are far slower than the limit needs.\n"
                f"observed:\n{draw_timeline(server.requests, server.name)}"
            ) from None


@pytest.mark.task(2)
async def test_bodies_come_back_in_the_order_of_the_urls(ex, rng, server):
    ids = rng.sample(range(100, 1000), 5)
    # Later URLs answer sooner, so finishing order is the reverse of the asking order.
    urls = [server.serve(f"/items/{i}", json=item(i), delay=0.03 * (len(ids) - n)) for n, i in enumerate(ids)]
    token = f"kata-{rng.randrange(10**6)}"

    result = await fetch_all(
        ex, server, urls, rate=len(urls), per=1.0, give_up_after=2.0, headers={"X-Kata-Session": token}
    )

    assert_same(result, [item(i) for i in ids], "fetch_all_rate_limited's result")
    if server.headers_seen("X-Kata-Session") != [token] * len(urls):
        raise AssertionError(
            "the requests reached the server, but not through the session fetch_all_rate_limited was "
            "given: make them with that `session` (`session.get(url)`)."
        )


@pytest.mark.task(2)
async def test_no_more_than_rate_requests_reach_the_server_in_any_window(ex, rng, server):
    rate, per = 4, 0.4
    ids = rng.sample(range(100, 1000), 6)
    urls = [server.serve(f"/items/{i}", json=item(i), delay=0.02) for i in ids]

    result = await fetch_all(ex, server, urls, rate, per, give_up_after=1.6)

    assert_same(result, [item(i) for i in ids], "fetch_all_rate_limited's result")
    assert_rate_kept(
        server,
        rate,
        per,
        "Share ONE RateLimiter(rate, per) between all the requests: a limiter made for each request "
        "has a whole window to itself, and a Semaphore bounds requests in flight, not starts.",
    )


@pytest.mark.task(2)
async def test_requests_overlap_and_end_as_soon_as_the_rate_allows(ex, rng, server):
    rate, per, latency = 4, 0.4, 0.2
    ids = rng.sample(range(100, 1000), 9)
    urls = [server.serve(f"/items/{i}", json=item(i), delay=latency) for i in ids]

    with stopwatch() as run:
        await fetch_all(ex, server, urls, rate, per, give_up_after=1.6)

    assert_call_count(server, len(urls))
    expected = last_allowed_start([0.0] * len(urls), rate, per) + latency
    if margins.over(
        run.elapsed, expected + LATE_SLACK, "21 fetch_all: whole run < the rule's fastest + LATE_SLACK"
    ):
        alone = "one at a time" if server.peak == 1 else f"at most {server.peak} at a time"
        raise AssertionError(
            f"{len(urls)} requests of {latency:.2f} s at {rate} per {per:.2f} s took {run.elapsed:.2f} s; "
            f"about {expected:.2f} s was expected (they ran {alone}). The limit is on how many "
            "START per window: a request that has started need not end before the next one starts. "
            "Run them together (gather) and let the shared limiter space out the starts.\n"
            f"observed:\n{draw_timeline(server.requests, server.name)}"
        )
