"""Exercise 19: retries wait longer each time, with jitter, and give up in time.

The waits are checked exactly: the tests hand `retry` a fake `sleep` that records
every delay (and still awaits) and a fake `random` that returns a known sequence,
so the expected delays can be computed. One test waits for real with asyncio.sleep.
"""

import asyncio
import math
from dataclasses import dataclass

import pytest

from kata.testing import FakeService, assert_same, clock, describe, margins, stopwatch
from kata.testing.cancelling import WAIT, Run, assert_ended_cancelled
from kata.testing.clock import early_by
from kata.testing.limits import assert_each_wait_exact
from kata.testing.own_timers import OwnTimersProbe
from kata.testing.waiting import QUIET_BEFORE, QUIET_FROM, assert_slept_between

# Errors retry must try again by default (subclasses of ConnectionError count too) ...
TRANSIENT_KINDS = (ConnectionResetError, TimeoutError, ConnectionRefusedError, ConnectionError)
# ... and errors that will fail the same way every time (PermissionError is an OSError,
# like ConnectionError, but not a transient one).
PERMANENT_KINDS = (ValueError, KeyError, PermissionError, LookupError)
REUSED = (
    "retry awaited the same coroutine twice (RuntimeError: cannot reuse already awaited coroutine): "
    "a coroutine runs only once. Make a new call for every try: `await call()` inside the loop."
)


class RecordingSleep:
    """A fake asyncio.sleep: records each delay it is awaited with, then returns at once."""

    # In judge mode, all the learner's code may use of it from the other process.
    _kata_remote = ()

    def __init__(self):
        self.delays = []

    def __call__(self, delay, result=None):
        coro = self._sleep(delay, result)
        coro.__name__ = coro.__qualname__ = "sleep"  # "you never awaited sleep()"
        return coro

    async def _sleep(self, delay, result):
        self.delays.append(delay)
        await asyncio.sleep(0)  # still a real await: other tasks get to run
        return result


class HeldSleep(RecordingSleep):
    """A fake asyncio.sleep whose first wait lasts `hold` s (the later ones return at once).

    `on_start`, when set, is called the moment that first wait begins: a test can cancel the
    caller while it waits, with no sleep of its own that could miss the moment.
    """

    def __init__(self, hold=0.0):
        super().__init__()
        self.hold = hold
        self.on_start = None

    async def _sleep(self, delay, result):
        self.delays.append(delay)
        first = len(self.delays) == 1
        if first and self.on_start is not None:
            self.on_start()
        await asyncio.sleep(self.hold if first else 0)
        return result


class ScriptedRandom:
    """A fake random.random: returns a known sequence (seeded per run) and counts its calls."""

    # In judge mode, all the learner's code may use of it from the other process.
    _kata_remote = ()

    def __init__(self, rng, low=0.05, high=0.95):
        self.values = [round(rng.uniform(low, high), 4) for _ in range(20)]
        self.calls = 0

    def __call__(self):
        value = self.values[self.calls % len(self.values)]
        self.calls += 1
        return value


class Flaky:
    """The `call` handed to retry: try k raises errors[k]; once they run out, tries return `value`.

    `delay`: how long each try takes, or a list, try k taking delay[k] (the last one the rest).
    """

    # In judge mode, all the learner's code may use of it from the other process.
    _kata_remote = ()

    def __init__(self, errors, value, delay=0.0):
        self.errors = list(errors)
        self.value = value
        self.delays = delay if isinstance(delay, list) else [delay]
        self.call = FakeService("call", delay=self._delay, reply=lambda: value, fail=self._fail)

    def _delay(self):
        done = len(self.call.calls) - 1  # this try's index: it is already recorded
        return self.delays[min(done, len(self.delays) - 1)]

    def _fail(self):
        done = len(self.call.calls) - 1  # this try's index: it is already recorded
        return self.errors[done] if done < len(self.errors) else None

    @property
    def tries(self):
        return len(self.call.calls)


def transient_errors(rng, count):
    return [rng.choice(TRANSIENT_KINDS)(f"try {n + 1}: {rng.randrange(10**4)}") for n in range(count)]


def some_value(rng):
    return {"id": rng.randrange(100, 1000), "status": "ok"}


def seconds(values):
    return "[" + ", ".join(f"{v:.5f}" if is_number(v) else repr(v) for v in values) + "]"


def is_number(value):
    return type(value) in (int, float)


def close(found, expected):
    return is_number(found) and math.isclose(found, expected, rel_tol=1e-9, abs_tol=1e-12)


def caps(count, base_delay, max_delay):
    """The most each wait may be: min(max_delay, base_delay * 2**n)."""
    return [min(max_delay, base_delay * 2**n) for n in range(count)]


async def run_retry(ex, flaky, **options):
    """(True, what retry returned) or (False, the exception it raised)."""
    try:
        return True, await ex.retry(flaky.call, **options)
    except NotImplementedError:
        raise
    except RuntimeError as error:
        if "cannot reuse already awaited coroutine" in str(error):
            raise AssertionError(REUSED) from None
        return False, error
    except Exception as error:
        return False, error


def assert_returned(outcome, flaky, attempts):
    """retry returned: every failure was transient and a try within `attempts` works."""
    if not outcome[0]:
        failures = len(flaky.errors)
        first = "the first try" if failures == 1 else f"the first {failures} tries"
        raise AssertionError(
            f"{first} raised {', '.join(map(repr, flaky.errors))} and try "
            f"{failures + 1} would have returned {flaky.value!r}, within attempts={attempts}; "
            f"retry raised {outcome[1]!r} after {tries(flaky.tries)} instead. Errors of the classes "
            "in `transient` (subclasses too) are worth another try."
        )


def times(count):
    return "once" if count == 1 else f"{count} times"


def tries(count):
    return "1 try" if count == 1 else f"{count} tries"


def assert_tries(flaky, expected, why):
    if flaky.tries != expected:
        raise AssertionError(f"retry made {tries(flaky.tries)}; expected {tries(expected)} ({why})")


def assert_raised(outcome, expected, why):
    """retry raised `expected`, that very exception object."""
    returned, found = outcome
    if returned:
        raise AssertionError(f"{why}, so retry should raise {expected!r}; it returned {describe(found)}")
    if found is not expected:
        raise AssertionError(
            f"retry raised {found!r}; it should raise {expected!r}, that very exception object ({why}). "
            "A new exception hides what really went wrong: re-raise the original, with `raise` "
            "inside the `except` block or `raise error` after it."
        )


def assert_waits(sleep, random, base_delay, max_delay, expected_count, tries_made):
    """The fake sleep was awaited `expected_count` times, with the full-jitter delays."""
    found = sleep.delays
    limits = caps(expected_count, base_delay, max_delay)
    expected = [value * cap for value, cap in zip(random.values, limits, strict=False)]
    lists = f"\n  expected waits: {seconds(expected)}\n  found waits:    {seconds(found)}"
    if not found and expected_count:
        raise AssertionError(
            f"retry never awaited the `sleep` it was given; between {tries(tries_made)} it should wait "
            f"{times(expected_count)}. Wait with `await sleep(delay)`, the function passed in "
            f"(not asyncio.sleep or time.sleep directly), so callers and tests can choose how.{lists}"
        )
    if len(found) != expected_count:
        raise AssertionError(
            f"retry waited {times(len(found))} for {tries(tries_made)}; expected {times(expected_count)}: "
            f"one wait before each retry, and none after the last try (nothing comes after it).{lists}"
        )
    wrong = [n for n, (f, e) in enumerate(zip(found, expected, strict=True)) if not close(f, e)]
    if not wrong:
        return
    n = wrong[0]
    if all(close(f, cap) for f, cap in zip(found, limits, strict=True)):
        reason = "these waits have no jitter: each one should be random() times its cap"
    elif random.calls == 0:
        reason = (
            "retry never called the `random` it was given: the jitter must come from it, "
            "`backoff_delay(n, base_delay, max_delay, random)`"
        )
    elif random.calls != expected_count:
        reason = (
            f"retry called random() {random.calls} times for {expected_count} waits; call it once per wait"
        )
    elif all(is_number(f) and close(f / v, base_delay) for f, v in zip(found, random.values, strict=False)):
        reason = "your waits do not grow: the cap before retry n is base_delay * 2**n, twice the one before"
    else:
        reason = (
            f"wait {n + 1} (before try {n + 2}) should be random() * min(max_delay, base_delay * 2**{n}) "
            f"= {random.values[n]} * min({max_delay}, {base_delay} * {2**n}) = {expected[n]:.5f} s, "
            f"found {seconds(found[n : n + 1])[1:-1]} s"
        )
    raise AssertionError(
        f"with base_delay={base_delay}, max_delay={max_delay} and random() returning "
        f"{random.values[:expected_count]}, {reason}.{lists}"
    )


# -- Task 1 ----------------------------------------------------------------------


def assert_delays(found, value, base_delay, max_delay):
    """backoff_delay's results for n = 0, 1, 2, ... with random() always `value`."""
    limits = caps(len(found), base_delay, max_delay)
    expected = [value * cap for cap in limits]
    if all(close(f, e) for f, e in zip(found, expected, strict=True)):
        return
    if all(close(f, cap) for f, cap in zip(found, limits, strict=True)):
        reason = "These are the caps with no jitter: multiply each one by random(). "
    elif all(close(f, expected[0]) for f in found):
        reason = "Your wait does not grow: the cap doubles with each retry, base_delay * 2**n. "
    elif any(is_number(f) and f > value * max_delay * (1 + 1e-9) for f in found):
        reason = "Your wait grows past max_delay: the cap is min(max_delay, base_delay * 2**n). "
    else:
        reason = ""
    raise AssertionError(
        f"backoff_delay(n, base_delay={base_delay}, max_delay={max_delay}, random) with random() "
        f"always returning {value}, for n = 0, 1, 2, ..., should be random() * min(max_delay, "
        f"base_delay * 2**n):\n  expected {seconds(expected)}\n  found    {seconds(found)}\n{reason}"
    )


@pytest.mark.task(1)
def test_the_wait_doubles_with_each_retry(ex, rng):
    base_delay = rng.choice((0.05, 0.1, 0.2, 0.25))
    value = round(rng.uniform(0.1, 0.9), 3)

    # n up to 11: a cap on the exponent (2**min(n, 6)) shows only past the first few retries.
    found = [ex.backoff_delay(n, base_delay, 1000.0, random=lambda: value) for n in range(12)]

    assert_delays(found, value, base_delay, 1000.0)
    assert_the_formula_holds_far_on(ex, rng, value)


# Retry numbers far past any other test's, each with a base_delay so small that base_delay * 2**n
# is still below max_delay there: a cap on the exponent (a learner trial's 2**min(n, 32), "to
# avoid an overflow"), or a shortcut to max_delay past some n, changes the wait only there. Up to
# 1023: from 1024 on, 2**n times a float overflows (the reference then takes max_delay).
FAR_RETRIES = (33, 40, 63, 64, 65, 100, 500, 1023)


def assert_the_formula_holds_far_on(ex, rng, value):
    max_delay = 1000.0
    for n in FAR_RETRIES:
        cap = round(rng.uniform(2.0, 9.0), 3)  # what base_delay * 2**n comes to, below max_delay
        base_delay = cap / 2**n
        expected = value * min(max_delay, base_delay * 2**n)
        found = ex.backoff_delay(n, base_delay, max_delay, random=lambda: value)
        if not close(found, expected):
            raise AssertionError(
                f"backoff_delay({n}, base_delay={base_delay!r}, max_delay={max_delay}, random) with "
                f"random() returning {value} should be {value} * min({max_delay}, {base_delay!r} * 2**{n}) "
                f"= {value} * {base_delay * 2**n:g} = {expected:.5f}; found {seconds([found])[1:-1]}. The "
                "formula holds for every retry number: with a base_delay this small, base_delay * 2**n is "
                f"still below max_delay at retry {n}. A cap of your own on the exponent (`2**min(n, 32)`) "
                "or a shortcut to max_delay past some retry number changes the wait there: compute "
                "`base_delay * 2**retry_number` as the docstring writes it, and let `min(max_delay, ...)` "
                "do the capping."
            )


@pytest.mark.task(1)
def test_the_wait_stops_growing_at_max_delay(ex, rng):
    base_delay = rng.choice((0.05, 0.1, 0.2))
    max_delay = round(base_delay * rng.choice((5, 6, 10, 12)), 6)
    value = round(rng.uniform(0.1, 0.9), 3)

    found = [ex.backoff_delay(n, base_delay, max_delay, random=lambda: value) for n in range(9)]

    assert_delays(found, value, base_delay, max_delay)


@pytest.mark.task(1)
def test_the_jitter_comes_from_the_random_it_is_given(ex, rng):
    base_delay, max_delay = 0.1, 5.0
    random = ScriptedRandom(rng)
    numbers = rng.sample(range(6), 4)

    found = [ex.backoff_delay(n, base_delay, max_delay, random=random) for n in numbers]

    if random.calls != len(numbers):
        raise AssertionError(
            f"backoff_delay called the `random` it was given {random.calls} times in {len(numbers)} "
            "calls; it should call it exactly once per call (and not use the `random` module, "
            "which a test or a caller cannot control)"
        )
    expected = [value * base_delay * 2**n for value, n in zip(random.values, numbers, strict=False)]
    if not all(close(f, e) for f, e in zip(found, expected, strict=True)):
        raise AssertionError(
            f"backoff_delay(n, {base_delay}, {max_delay}, random) for n in {numbers}, with random() "
            f"returning {random.values[: len(numbers)]}, should give\n  {seconds(expected)}\n"
            f"found\n  {seconds(found)}\n(random() * min(max_delay, base_delay * 2**n))"
        )


# A cap of 0 (base_delay=0, or max_delay=0): the wait is random() * 0 = 0.0, and random() is
# still called once, as the formula says; each case every run.
ZERO_CAPS = {"base_delay": (0, 5.0), "max_delay": (0.1, 0)}


@pytest.mark.task(1)
@pytest.mark.parametrize("zero", list(ZERO_CAPS))
def test_random_is_called_once_even_when_the_cap_is_zero(ex, rng, zero):
    base_delay, max_delay = ZERO_CAPS[zero]
    random = ScriptedRandom(rng)
    numbers = rng.sample(range(6), 3)

    found = [ex.backoff_delay(n, base_delay, max_delay, random=random) for n in numbers]

    if random.calls != len(numbers):
        raise AssertionError(
            f"backoff_delay(n, base_delay={base_delay}, max_delay={max_delay}, random) for n in {numbers} "
            f"called the `random` it was given {random.calls} times in {len(numbers)} calls; it should "
            f"call it exactly once per call, even when the cap, min(max_delay, base_delay * 2**n), is 0. "
            "Compute `random() * min(max_delay, base_delay * 2**n)` every time, with no shortcut for a "
            "zero cap: a caller counting on one random() per wait (a seeded sequence, a test) is "
            "thrown off by a skipped call."
        )
    if not all(close(f, 0.0) for f in found):
        raise AssertionError(
            f"backoff_delay(n, base_delay={base_delay}, max_delay={max_delay}, random) for n in {numbers} "
            f"should be random() * 0 = 0.0 each time (the cap is 0); found {seconds(found)}"
        )


# -- Task 2 ----------------------------------------------------------------------


@pytest.mark.task(2)
async def test_a_call_that_works_at_once_is_tried_once_without_waiting(ex, rng):
    value = some_value(rng)
    flaky = Flaky(errors=[], value=value)
    sleep, random = RecordingSleep(), ScriptedRandom(rng)

    outcome = await run_retry(
        ex, flaky, attempts=4, base_delay=0.01, max_delay=1.0, sleep=sleep, random=random
    )

    if not outcome[0]:
        raise AssertionError(f"the first try returned {value!r}, but retry raised {outcome[1]!r}")
    assert_same(outcome[1], value, "retry's result (what the call returned)")
    assert_tries(flaky, 1, "the first try worked")
    assert_waits(sleep, random, 0.01, 1.0, expected_count=0, tries_made=1)


@pytest.mark.task(2)
async def test_transient_errors_are_retried_until_the_call_works(ex, rng):
    attempts = rng.randint(4, 6)
    failures = rng.randint(1, attempts - 1)
    flaky = Flaky(errors=transient_errors(rng, failures), value=some_value(rng))
    sleep, random = RecordingSleep(), ScriptedRandom(rng)

    outcome = await run_retry(
        ex, flaky, attempts=attempts, base_delay=0.02, max_delay=1.0, sleep=sleep, random=random
    )

    assert_returned(outcome, flaky, attempts)
    assert_same(outcome[1], flaky.value, "retry's result (what the successful try returned)")
    assert_tries(flaky, failures + 1, f"{failures} failures, then a try that works")
    assert_waits(sleep, random, 0.02, 1.0, expected_count=failures, tries_made=flaky.tries)


@pytest.mark.task(2)
async def test_the_waits_grow_exponentially_up_to_max_delay_with_full_jitter(ex, rng):
    attempts = 7
    base_delay = rng.choice((0.01, 0.02))
    max_delay = round(base_delay * rng.choice((5, 6, 10)), 6)
    flaky = Flaky(errors=transient_errors(rng, attempts - 1), value=some_value(rng))
    sleep, random = RecordingSleep(), ScriptedRandom(rng)

    outcome = await run_retry(
        ex, flaky, attempts=attempts, base_delay=base_delay, max_delay=max_delay, sleep=sleep, random=random
    )

    assert_returned(outcome, flaky, attempts)
    assert_waits(sleep, random, base_delay, max_delay, expected_count=attempts - 1, tries_made=flaky.tries)
    assert_same(outcome[1], flaky.value, "retry's result (what the successful try returned)")


@pytest.mark.task(2)
async def test_many_attempts_are_all_made_and_every_wait_keeps_doubling(ex, rng):
    # 9 to 12 attempts (the fake sleep returns at once), and a max_delay no wait reaches: a cap of
    # retry's own on the attempts, or on the exponent of the waits, shows only this far.
    attempts = rng.randint(9, 12)
    base_delay, max_delay = rng.choice((0.01, 0.02)), 3600.0
    flaky = Flaky(errors=transient_errors(rng, attempts - 1), value=some_value(rng))
    sleep, random = RecordingSleep(), ScriptedRandom(rng)

    outcome = await run_retry(
        ex, flaky, attempts=attempts, base_delay=base_delay, max_delay=max_delay, sleep=sleep, random=random
    )

    if flaky.tries < attempts:
        raise AssertionError(
            f"with attempts={attempts}, the first {attempts - 1} tries raised transient errors and try "
            f"{attempts} would have returned {flaky.value!r}, but retry gave up after "
            f"{tries(flaky.tries)} and raised {describe(outcome[1])}: it has a limit of its own on the "
            "tries. Make as many tries as `attempts` says, however many that is."
        )
    assert_returned(outcome, flaky, attempts)
    assert_waits(sleep, random, base_delay, max_delay, expected_count=attempts - 1, tries_made=flaky.tries)
    assert_same(outcome[1], flaky.value, "retry's result (what the successful try returned)")


@pytest.mark.task(2)
async def test_a_wait_of_zero_is_still_awaited(ex, rng):
    # random() returning 0.0 makes every wait 0.0 s: the docstring still says to `await sleep(...)`
    # before each retry (asyncio.sleep(0) hands the loop to the other tasks, even for 0 s).
    failures = rng.randint(2, 4)
    flaky = Flaky(errors=transient_errors(rng, failures), value=some_value(rng))
    sleep, random = RecordingSleep(), ScriptedRandom(rng, low=0.0, high=0.0)

    outcome = await run_retry(
        ex, flaky, attempts=failures + 2, base_delay=0.01, max_delay=1.0, sleep=sleep, random=random
    )

    assert_returned(outcome, flaky, failures + 2)
    assert_tries(flaky, failures + 1, f"{failures} failures, then a try that works")
    if len(sleep.delays) < failures:
        awaited = (
            f"awaited the `sleep` it was given only {times(len(sleep.delays))}"
            if sleep.delays
            else "never awaited the `sleep` it was given"
        )
        raise AssertionError(
            f"with random() returning 0.0, every wait is 0.0 s, and retry {awaited} for {failures} "
            "retries: it skipped the waits of 0 s. The docstring says to wait "
            "`await sleep(backoff_delay(...))` "
            "before every retry, whatever the delay: no `if delay > 0:` around it (a sleep of 0 still "
            "lets the other tasks run, and a caller's sleep may count or log every wait)."
        )
    assert_waits(sleep, random, 0.01, 1.0, expected_count=failures, tries_made=flaky.tries)
    assert_same(outcome[1], flaky.value, "retry's result (what the successful try returned)")


# Values a working try may return that are false: still what the call returned.
FALSY = (None, 0, "", [], False, {})


@pytest.mark.task(2)
async def test_a_try_that_returns_a_false_value_has_worked(ex, rng):
    for value in FALSY:
        failures = rng.randint(0, 2)
        flaky = Flaky(errors=transient_errors(rng, failures), value=value)
        sleep, random = RecordingSleep(), ScriptedRandom(rng)

        outcome = await run_retry(
            ex, flaky, attempts=5, base_delay=0.01, max_delay=1.0, sleep=sleep, random=random
        )

        assert_returned(outcome, flaky, 5)
        if flaky.tries > failures + 1:
            raise AssertionError(
                f"try {failures + 1} returned {value!r}, and retry tried again ({flaky.tries} tries in "
                f"all): a try that returns has worked, whatever it returned (None, 0, an empty list...). "
                "Only an exception is a failed try: return the value at once, without a test of its truth."
            )
        assert_same(outcome[1], value, "retry's result (what the successful try returned)")
        assert_tries(flaky, failures + 1, f"{failures} failures, then a try that returns {value!r}")
        assert_waits(sleep, random, 0.01, 1.0, expected_count=failures, tries_made=flaky.tries)


SLOW_TRY = 0.3  # the try that works: retry waits for it, however long it takes


@pytest.mark.task(2)
async def test_a_slow_try_is_awaited_without_a_time_limit_or_polling(ex, rng, wake_watch):
    flaky = Flaky(transient_errors(rng, 1), some_value(rng), delay=[0.01, SLOW_TRY])
    sleep, random = RecordingSleep(), ScriptedRandom(rng)

    fix = "Await the try instead: `return await call()` (or `await task`) sleeps until it is done."
    # Its own timers are judged by what they do as each try ends (kata.testing.own_timers): a time
    # limit gives up on the slow try (a TimeoutError it makes is even retried); a poll never sees
    # the try end; a timer that only logs is fine.
    async with wake_watch(ex) as wakes:
        with OwnTimersProbe(wakes, "retry", flaky.call) as timers:
            task = asyncio.create_task(
                run_retry(ex, flaky, attempts=4, base_delay=0.01, max_delay=1.0, sleep=sleep, random=random)
            )
            outcome = await timers.awaited(
                task, fix=fix, complete=lambda outcome: outcome == (True, flaky.value)
            )

    assert_returned(outcome, flaky, 4)
    assert_same(outcome[1], flaky.value, "retry's result (what the successful try returned)")
    assert_tries(flaky, 2, "1 failure, then a try that works")
    slow = flaky.call.calls[1]
    if slow.end is not None:
        since = slow.start + QUIET_FROM
        until = timers.watched_until(slow.end - QUIET_BEFORE, since=slow.start)
        assert_slept_between(
            wakes,
            since,
            until,
            {task: "retry"},
            "retry",
            f"while try 2 ran (the {until - since:.2f} s this test watched)",
            ("whether the try is done", "it is"),
            fix,
            probe=timers,
        )


@pytest.mark.task(2)
async def test_every_attempt_is_made_however_long_the_waits_add_up_to(ex, rng):
    # Waits of minutes (the fake sleep returns at once): a retry with a time budget of its own
    # (giving up once the next wait would pass it) stops with tries left.
    attempts, base_delay, max_delay = 6, rng.choice((60, 90)), 3600
    flaky = Flaky(errors=transient_errors(rng, attempts - 1), value=some_value(rng))
    sleep, random = RecordingSleep(), ScriptedRandom(rng, low=0.5)

    outcome = await run_retry(
        ex, flaky, attempts=attempts, base_delay=base_delay, max_delay=max_delay, sleep=sleep, random=random
    )

    if flaky.tries < attempts:
        limits = caps(attempts - 1, base_delay, max_delay)
        planned = sum(v * cap for v, cap in zip(random.values, limits, strict=False))
        raise AssertionError(
            f"with attempts={attempts}, base_delay={base_delay} and max_delay={max_delay}, try "
            f"{attempts} would have returned {flaky.value!r}, but retry gave up after "
            f"{tries(flaky.tries)} and raised {describe(outcome[1])}. Its waits add up to about "
            f"{planned:.0f} s, and that is the caller's choice: the docstring gives no time limit. "
            "Make every attempt, whatever the waits come to."
        )
    assert_returned(outcome, flaky, attempts)
    assert_waits(sleep, random, base_delay, max_delay, expected_count=attempts - 1, tries_made=flaky.tries)
    assert_same(outcome[1], flaky.value, "retry's result (what the successful try returned)")


@pytest.mark.task(2)
async def test_after_the_last_attempt_its_error_is_raised(ex, rng):
    attempts = rng.randint(3, 5)
    # More failures than attempts: a retry loop that runs too long keeps failing.
    flaky = Flaky(errors=transient_errors(rng, attempts + 2), value=some_value(rng))
    sleep, random = RecordingSleep(), ScriptedRandom(rng)

    outcome = await run_retry(
        ex, flaky, attempts=attempts, base_delay=0.01, max_delay=1.0, sleep=sleep, random=random
    )

    if flaky.tries < attempts:
        raise AssertionError(
            f"retry gave up after {tries(flaky.tries)}, but attempts={attempts} allows {attempts} "
            "(the first try counts as one): every error was transient, so make them all."
        )
    if flaky.tries > attempts:
        raise AssertionError(
            f"retry made {flaky.tries} tries, but attempts={attempts} allows only {attempts} "
            "(the first try counts as one): after that many failures, give up."
        )
    last = flaky.errors[attempts - 1]
    assert_raised(outcome, last, f"all {attempts} tries failed and try {attempts} raised it")
    assert_waits(sleep, random, 0.01, 1.0, expected_count=attempts - 1, tries_made=flaky.tries)


@pytest.mark.task(2)
async def test_other_errors_are_raised_at_once_without_another_try(ex, rng):
    before = rng.randint(0, 2)
    permanent = rng.choice(PERMANENT_KINDS)(f"item {rng.randrange(100, 1000)} is not valid")
    flaky = Flaky(errors=[*transient_errors(rng, before), permanent], value=some_value(rng))
    sleep, random = RecordingSleep(), ScriptedRandom(rng)

    outcome = await run_retry(
        ex, flaky, attempts=6, base_delay=0.01, max_delay=1.0, sleep=sleep, random=random
    )

    if flaky.tries > before + 1:
        raise AssertionError(
            f"try {before + 1} raised {permanent!r}, which is not transient (not one of "
            "ConnectionError, TimeoutError): it will fail the same way every time, so retry should "
            f"raise it at once; it tried again ({flaky.tries} tries in all)"
        )
    assert_tries(flaky, before + 1, f"{before} transient failures, then {type(permanent).__name__}")
    assert_raised(outcome, permanent, f"try {before + 1} raised it and it is not transient")
    assert_waits(sleep, random, 0.01, 1.0, expected_count=before, tries_made=flaky.tries)


class RaisesWhenCalled:
    """The `call` handed to retry, a plain function: each of its first calls raises the next of
    `errors` itself, before it gives back anything to await (a pool with no free connection, a
    client that checks first); once they run out, it gives back `flaky.call()` to await."""

    # In judge mode, all the learner's code may use of it from the other process.
    _kata_remote = ()

    def __init__(self, errors, flaky):
        self.errors, self.flaky = list(errors), flaky
        self.calls = 0

    def __call__(self):
        self.calls += 1
        if self.calls <= len(self.errors):
            raise self.errors[self.calls - 1]
        return self.flaky.call()


@pytest.mark.task(2)
async def test_a_transient_error_raised_by_calling_call_is_retried_too(ex, rng):
    # A red team's retry made each try's coroutine with `pending = call()` before its `try:`, and
    # passed: every other test's call raises only once awaited.
    failures = rng.randint(1, 2)
    flaky = Flaky(errors=[], value=some_value(rng))
    call = RaisesWhenCalled(transient_errors(rng, failures), flaky)
    sleep, random = RecordingSleep(), ScriptedRandom(rng)

    try:
        result = await ex.retry(
            call, attempts=failures + 2, base_delay=0.01, max_delay=1.0, sleep=sleep, random=random
        )
    except tuple(TRANSIENT_KINDS) as error:
        if not any(error is raised for raised in call.errors):
            raise
        raise AssertionError(
            f"try {call.calls} raised {error!r} as `call()` was called, before it gave back anything to "
            f"await, and retry let that error out after {tries(call.calls)}: it called `call()` outside "
            "its `try:` (`pending = call()` before it, say). A try is the whole of `await call()`, the "
            "call included: an error of the classes in `transient` is worth another try wherever it "
            "comes from. Write `return await call()` inside the `try:`."
        ) from None

    assert_same(result, flaky.value, "retry's result (what the successful try returned)")
    if call.calls != failures + 1:
        raise AssertionError(
            f"retry called `call()` {times(call.calls)}; expected {times(failures + 1)} ({failures} "
            "transient failures as it was called, then a try that works)"
        )
    assert_waits(sleep, random, 0.01, 1.0, expected_count=failures, tries_made=call.calls)


@pytest.mark.task(2)
async def test_an_exception_group_of_transient_errors_is_raised_at_once(ex, rng):
    # An ExceptionGroup (a TaskGroup inside the call failed) is not an instance of a class in
    # `transient`, whatever it holds: "any other error". A red team's retry looked inside the group
    # (`group.split(transient)`) and retried it, and passed.
    page = rng.randrange(100, 1000)
    parts = [rng.choice(TRANSIENT_KINDS)(f"part {n + 1} of page {page}") for n in range(2)]
    group = ExceptionGroup(f"2 of the parts of page {page} failed", parts)
    flaky = Flaky(errors=[group], value=some_value(rng))
    sleep, random = RecordingSleep(), ScriptedRandom(rng)

    outcome = await run_retry(
        ex, flaky, attempts=5, base_delay=0.01, max_delay=1.0, sleep=sleep, random=random
    )

    if flaky.tries > 1:
        raise AssertionError(
            f"try 1 raised {group!r}, and retry tried again ({flaky.tries} tries in all). The group holds "
            "transient errors, but it is not itself an instance of a class in `transient` (ConnectionError, "
            'TimeoutError): it is "any other error", to be raised at once. Catch the classes in '
            "`transient` with `except transient:` (or isinstance), and don't look inside groups "
            "(`except*`, `group.split(...)`): a caller who wants a group retried passes ExceptionGroup "
            "in `transient`."
        )
    assert_raised(
        outcome, group, "try 1 raised it, and an ExceptionGroup is not an instance of a transient class"
    )
    assert_waits(sleep, random, 0.01, 1.0, expected_count=0, tries_made=1)


@pytest.mark.task(2)
async def test_the_transient_classes_are_the_ones_it_is_given(ex, rng):
    retried = [KeyError(f"key {rng.randrange(100)}"), IndexError(f"index {rng.randrange(100)}")]
    final = ConnectionResetError("connection reset, and not transient this time")
    flaky = Flaky(errors=[*retried, final], value=some_value(rng))
    sleep, random = RecordingSleep(), ScriptedRandom(rng)

    outcome = await run_retry(
        ex,
        flaky,
        attempts=6,
        base_delay=0.01,
        max_delay=1.0,
        transient=(LookupError,),
        sleep=sleep,
        random=random,
    )

    if flaky.tries < 3:
        raise AssertionError(
            f"with transient=(LookupError,), try {flaky.tries} raised "
            f"{flaky.errors[flaky.tries - 1]!r}, an instance of LookupError, so it deserves another "
            "try; retry stopped there. Retry the classes in the `transient` parameter (with "
            "`except transient:` or isinstance), not a fixed list."
        )
    if flaky.tries > 3:
        raise AssertionError(
            f"with transient=(LookupError,), try 3 raised {final!r}, which is not a LookupError: "
            f"retry should raise it at once, yet it tried again ({flaky.tries} tries). The classes in "
            "`transient` replace the default ones."
        )
    assert_raised(outcome, final, "try 3 raised it and it is not a LookupError")
    assert_waits(sleep, random, 0.01, 1.0, expected_count=2, tries_made=3)


@pytest.mark.task(2)
async def test_an_empty_transient_retries_no_error(ex, rng):
    # transient=() is given, not left out (the default is the signature's): it names no class, so
    # no error is an instance of one, and every error is "any other error", raised at once. (A red
    # team's answer took () for the default, with `tuple(transient) or (ConnectionError, ...)`.)
    error = rng.choice(TRANSIENT_KINDS)(f"server {rng.randrange(100, 1000)} went away")
    flaky = Flaky(errors=[error, *transient_errors(rng, 2)], value=some_value(rng))
    sleep, random = RecordingSleep(), ScriptedRandom(rng)

    outcome = await run_retry(
        ex, flaky, attempts=5, base_delay=0.01, max_delay=1.0, transient=(), sleep=sleep, random=random
    )

    if flaky.tries > 1:
        raise AssertionError(
            f"with transient=(), try 1 raised {error!r}, and retry tried again ({flaky.tries} tries in "
            "all): an empty `transient` names no class, so no error is worth another try, and this one "
            "should be raised at once. The default, (ConnectionError, TimeoutError), is for a call that "
            "leaves `transient` out; () is given, and means 'retry nothing': don't swap it for the "
            "default (`transient or (...)` does). `except transient:` with () catches nothing."
        )
    assert_raised(outcome, error, "try 1 raised it, and transient=() makes no error transient")
    assert_waits(sleep, random, 0.01, 1.0, expected_count=0, tries_made=1)


@pytest.mark.task(2)
async def test_real_waits_are_awaited_and_other_retries_run_meanwhile(ex, rng, wake_watch):
    # Three retries with the default sleep (asyncio.sleep), gathered by the test: each
    # waits 0.2-0.3 s in all, and waiting must not hold up the others.
    attempts, base_delay, try_time = 4, 0.05, 0.01
    flakies = [Flaky(transient_errors(rng, attempts - 1), some_value(rng), try_time) for _ in range(3)]
    randoms = [ScriptedRandom(rng, low=0.6, high=0.95) for _ in flakies]

    async with wake_watch(ex) as wakes:
        with stopwatch() as run:
            # return_exceptions: when one retry fails the test, the other two still finish here.
            outcomes = await asyncio.gather(
                *(
                    run_retry(
                        ex, flaky, attempts=attempts, base_delay=base_delay, max_delay=1.0, random=random
                    )
                    for flaky, random in zip(flakies, randoms, strict=True)
                ),
                return_exceptions=True,
            )

    for outcome, flaky in zip(outcomes, flakies, strict=True):
        if isinstance(outcome, BaseException):
            raise outcome
        assert_returned(outcome, flaky, attempts)
        assert_same(outcome[1], flaky.value, "retry's result (what the successful try returned)")
    if any(random.calls != attempts - 1 for random in randoms):
        raise AssertionError(
            f"each retry should call the `random` it was given once per wait ({attempts - 1} times); "
            f"found {[random.calls for random in randoms]}"
        )
    waits = caps(attempts - 1, base_delay, 1.0)
    totals = [
        attempts * try_time + sum(v * cap for v, cap in zip(r.values, waits, strict=False)) for r in randoms
    ]
    # Each retry sleeps in turn `attempts` tries and `attempts - 1` waits, and each may end early.
    if margins.under(
        run.elapsed,
        max(totals) - early_by(2 * attempts - 1),
        "19 three retries together: run >= the longest total - EARLY_WAKE",
    ):
        raise AssertionError(
            f"the waits of each retry add up to about {max(totals):.2f} s, yet the three retries were "
            f"done in {run.elapsed:.2f} s: the waits were not really awaited. Wait with "
            "`await sleep(delay)`, the `sleep` parameter (asyncio.sleep unless a caller passes another)."
        )
    # The bounds on the whole run allow for a busy machine; the waits the code asks for are exact:
    # the timers of its own it waited on, one after another, between two tries (an asyncio.sleep
    # of 0.02 s more, or a thread's, after the wait: a learner trial's, within those bounds).
    for flaky, random in zip(flakies, randoms, strict=True):

        def wanted(n, values=random.values):
            return values[n] * waits[n]

        def waited(seconds, timers, n, values=random.values):
            return (
                f"before try {n + 2}, retry waited {seconds:.3f} s ({timers}); the rule gives "
                f"{values[n] * waits[n]:.3f} s there (random() returned {values[n]}, the cap is "
                f"{waits[n]:g} s): wait exactly `await sleep(backoff_delay(n, base_delay, max_delay, "
                "random))`, the `sleep` you were given, nothing added or taken away."
            )

        assert_each_wait_exact(wakes, flaky.call.calls, wanted, waited)
    if margins.over(
        run.elapsed, max(totals) + 0.2, "19 three retries together: run < the longest total + 0.2 s"
    ):
        one_after_another = run.elapsed >= sum(totals) - 0.2
        raise AssertionError(
            f"three retries run together took {run.elapsed:.2f} s; each one's tries and waits take at "
            f"most {max(totals):.2f} s, so side by side they should take about that long. "
            + (
                f"They took as long as all three one after another ({sum(totals):.2f} s): a wait that "
                "blocks (time.sleep) holds up every other task: `await sleep(delay)`."
                if one_after_another
                else "The waits were longer than the rule gives: before retry n (n = 0, 1, 2, ...) wait "
                "`random() * min(max_delay, base_delay * 2**n)`, with the `random` you were given."
            )
        )


# Cancelling retry itself (a timeout around it, a caller that gave up): at each moment, in a try
# or in a wait, retry must stop at once and the CancelledError must reach the caller. A fake's
# hook cancels it the moment it is there, so that in judge mode too, where the cancel crosses to
# the other process, the moment cannot be missed.
TRY_TIME = 0.5  # the try that is cancelled: surely still running when the cancel lands
HOLD = 0.5  # the wait that is cancelled, the same
# How long after the cancel retry may end: correct code ends at once, in judge mode once the
# cancel has crossed to the other process and the ending back (a few ms each, tens when busy).
STOP_LATE = 0.3


@dataclass(frozen=True)
class Moment:
    """Where the test cancels retry: `during` says when, `missed` what it skipped when it ended
    before that moment came."""

    during: str
    missed: str


IN_A_TRY = Moment("while try 2 was running", "before try 2 began")
IN_A_WAIT = Moment(
    "while it waited before try 2 (in `await sleep(...)`)",
    "without awaiting the `sleep` it was given before try 2",
)
NOT_A_FAILED_TRY = (
    "A cancellation is not a failed try: it means whoever awaits retry (a timeout around it, "
    "`asyncio.wait_for(retry(...), 10)`, a caller that gave up) wants it to stop now, and a timeout "
    "works only if it does. Never retry asyncio.CancelledError: don't add it to the errors you "
    "catch, nor catch it with `except BaseException:` or a bare `except:`. Catch only the classes "
    "in `transient`, and let the CancelledError reach the caller at once."
)


async def cancel_retry(ex, rng, moment):
    """Run retry on a call whose first try raises a transient error, cancel it at `moment`, and
    check that it stopped at once, cancelled, without trying or waiting again."""
    flaky = Flaky(transient_errors(rng, 1), some_value(rng), delay=[0.01, TRY_TIME, 0.01])
    sleep, random = HeldSleep(hold=HOLD if moment is IN_A_WAIT else 0.0), ScriptedRandom(rng)
    seen = {}

    def cancel():
        if run.moment is None and not run.task.done():
            seen.update(tries=flaky.tries, waits=len(sleep.delays), at=clock.monotonic())
            run.cancel(moment.during)

    run = Run(
        ex.retry(flaky.call, attempts=5, base_delay=0.01, max_delay=1.0, sleep=sleep, random=random),
        snapshot=clock.monotonic,  # the instant retry ended
    )
    if moment is IN_A_TRY:
        flaky.call.on_start = lambda _call: flaky.tries == 2 and cancel()
    else:
        sleep.on_start = cancel

    longest = TRY_TIME + HOLD + WAIT
    finished = await run.finish(longest)
    if not finished:
        await run.stop()
    elif run.moment is None:
        if run.error is not None and not any(run.error is error for error in flaky.errors):
            raise run.error  # the learner's own error ("not written yet" for a stub)
        if flaky.tries > 1 and not sleep.delays:
            raise AssertionError(
                f"retry {run.ending()} after {tries(flaky.tries)} and never awaited the `sleep` it was "
                "given (the test meant to cancel it in that wait): wait between tries with "
                "`await sleep(delay)`, the parameter."
            )
        raise AssertionError(
            f"retry {run.ending()} after {tries(flaky.tries)}, {moment.missed}: try 1 raised "
            f"{flaky.errors[0]!r}, a transient error (an instance of a class in `transient`), so retry "
            "should wait (`await sleep(...)`) and try again"
        )
    again = after_the_cancel(flaky, sleep, seen) if run.moment is not None else ""
    if again:
        then = run.ending() if finished else f"was still running {WAIT:.1f} s after the cancel"
        raise AssertionError(
            f"retry was cancelled {moment.during}, and {again}; then it {then}. {NOT_A_FAILED_TRY}"
        )
    assert_ended_cancelled(
        run,
        "retry",
        unreached=f"{moment.missed}, having made {tries(flaky.tries)}; the first try fails at once and the "
        f"second takes {TRY_TIME:.1f} s",
        cancel_advice=NOT_A_FAILED_TRY,
    )
    stopping = run.left - seen["at"]
    if margins.over(stopping, STOP_LATE, "19 retry: ends < STOP_LATE once cancelled"):
        raise AssertionError(
            f"retry was cancelled {moment.during}, and it ended cancelled, but only {stopping:.2f} s "
            "later: once cancelled, stop at once (whatever you tidy up must not wait)."
        )


def after_the_cancel(flaky, sleep, seen):
    """What retry did after it was cancelled, in words ("" for nothing)."""
    more_tries, more_waits = flaky.tries - seen["tries"], len(sleep.delays) - seen["waits"]
    if more_tries:
        made = ", ".join(f"try {n}" for n in range(seen["tries"] + 1, flaky.tries + 1))
        return f"it tried again: {made} started after the cancellation"
    if more_waits:
        return f"it waited again after the cancellation ({times(more_waits)} more)"
    return ""


@pytest.mark.task(2)
async def test_a_cancelled_retry_stops_at_once_and_the_cancellation_reaches_the_caller(ex, rng):
    for moment in (IN_A_TRY, IN_A_WAIT):
        await cancel_retry(ex, rng, moment)
