"""Assertions that explain the mistake to a learner.

Each helper raises `AssertionError` with a plain-words message: what was expected,
what was found, and for concurrency a timeline picture of how the calls really ran.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from kata.testing import clock, margins, timeline
from kata.testing.fakes import Instrumented
from kata.words import many

_PLAIN_TYPES = (int, float, complex, str, bytes, bool, type(None))

# A correct concurrent run takes about as long as its slowest call; twice that is
# far outside the scheduling noise of a loaded 2-core machine (see FIELD-NOTES).
CONCURRENT_SLACK = 2.0
# asyncio may wake a sleeper a hair early; never by more than this.


def _canonical(value: Any) -> Any:
    """A structure of builtin types only, so that comparing it cannot be faked.

    An object whose `__eq__` always returns True compares equal only to itself.
    """
    kind = type(value)
    if kind in _PLAIN_TYPES:
        return (kind.__name__, value)
    if kind in (list, tuple):
        return (kind.__name__, tuple(_canonical(v) for v in value))
    if kind is dict:
        return ("dict", frozenset((_canonical(k), _canonical(v)) for k, v in value.items()))
    if kind in (set, frozenset):
        return (kind.__name__, frozenset(_canonical(v) for v in value))
    if isinstance(value, BaseException):
        return ("exception", kind, _canonical(tuple(value.args)))
    return ("object", kind, id(value))


def same(found: Any, expected: Any) -> bool:
    """True when `found` has exactly the types and values of `expected`."""
    return _canonical(found) == _canonical(expected)


def describe(value: Any) -> str:
    """`[1, 2]` as "[1, 2] (a list)", so a wrong type is as visible as a wrong value."""
    text = repr(value)
    if len(text) > 200:
        text = text[:197] + "..."
    name = type(value).__name__
    article = "an" if name[0].lower() in "aeiou" else "a"
    return f"{text} ({article} {name})"


def assert_same(found: Any, expected: Any, what: str = "the result") -> None:
    """Fail unless `found` equals `expected` with exactly the same types throughout."""
    if not same(found, expected):
        raise AssertionError(f"{what} should be {describe(expected)}, found {describe(found)}")


@dataclass
class Stopwatch:
    """Elapsed seconds on the kata's own clock; filled in when the `with` block ends."""

    started: float = 0.0
    elapsed: float = 0.0


@contextmanager
def stopwatch() -> Iterator[Stopwatch]:
    """Time a block (it may contain awaits): `with stopwatch() as sw: await f()`."""
    watch = Stopwatch(started=clock.perf_counter())
    try:
        yield watch
    finally:
        watch.elapsed = clock.perf_counter() - watch.started


def assert_call_count(service: Instrumented, expected: int, why: str = "") -> None:
    """Fail unless the service was called exactly `expected` times."""
    found = len(service.calls)
    if found != expected:
        reason = f" ({why})" if why else ""
        raise AssertionError(
            f"expected {many(expected, 'call')} to {service.name}{reason}, found {many(found, 'call')}"
        )


def _assert_all_finished(service: Instrumented) -> None:
    running = [c for c in service.calls if c.end is None]
    if running:
        raise AssertionError(
            f"your code returned while {running[0].label(service.name)} was still running: "
            "await every call and task you start before returning."
        )


def not_all_at_once(service: Instrumented, expected_calls: int) -> str:
    """How the calls ran, when they were not all in flight at once: "your 5 calls to fetch ran one
    after another", or "only 3 of your 5 calls to fetch were running at the same time"."""
    if service.peak <= 1:
        return f"your {expected_calls} calls to {service.name} ran one after another"
    return (
        f"only {service.peak} of your {expected_calls} calls to {service.name} were running at the same time"
    )


def assert_ran_together(service: Instrumented, elapsed: float, expected_calls: int) -> None:
    """Fail unless all `expected_calls` calls to `service` were in flight at one moment
    and the whole run took about as long as the slowest call, not the sum of them."""
    assert_call_count(service, expected_calls)
    calls = service.calls
    _assert_all_finished(service)
    delays = [service.delay_for(*c.args) for c in calls]
    slowest, total = max(delays), sum(delays)
    picture = timeline.compare(calls, service.name, delays)
    if margins.short_of(service.peak, expected_calls, "ran together: every call in flight at once") or (
        not service.overlapped()
    ):
        # The sum of the delays is what the calls take one after another: no figure for calls that
        # partly overlapped (batches took 0.40 s, not the 1.20 s of one after another).
        instead = f", not {total:.2f} s" if service.peak <= 1 else ""
        raise AssertionError(
            f"{not_all_at_once(service, expected_calls)}: {elapsed:.2f} s in all. Started together, they "
            f"take about {slowest:.2f} s (as long as the slowest call){instead}.\n{picture}"
        )
    if margins.over(elapsed, CONCURRENT_SLACK * slowest, "ran together: whole run < 2 x the slowest call"):
        raise AssertionError(
            f"your calls to {service.name} overlapped, but the whole run took {elapsed:.2f} s; "
            f"about {slowest:.2f} s was expected. Something else waited: a blocking call, "
            f"or a pause after the calls?\n{picture}"
        )
    if margins.under(elapsed, slowest - clock.EARLY_WAKE, "ran together: whole run >= the slowest call"):
        raise AssertionError(
            f"the run finished in {elapsed:.2f} s, before the slowest call could end "
            f"({slowest:.2f} s): every call must be awaited before returning."
        )


def assert_ran_one_at_a_time(service: Instrumented) -> None:
    """Fail unless no two calls to `service` overlapped."""
    if service.peak > 1:
        raise AssertionError(
            f"{service.peak} calls to {service.name} ran at the same time; they must run "
            f"one after another here.\nobserved:\n{timeline.observed(service.calls, service.name)}"
        )


def assert_started_in_order(service: Instrumented, expected_args: Sequence[tuple]) -> None:
    """Fail unless the service was called with exactly these argument tuples, in this order."""
    found = service.started_args
    if not same(found, list(expected_args)):
        raise AssertionError(
            f"{service.name} should have been called with {describe(list(expected_args))} "
            f"in that order, found {describe(found)}"
        )


def assert_peak_in_flight(service: Instrumented, limit: int, expected_calls: int) -> None:
    """Fail unless the calls ran at most `limit` at a time, and did reach `limit` at once.

    Both halves matter: more than `limit` breaks the bound (a semaphore made per task
    bounds nothing), fewer wastes the concurrency the bound allows.
    """
    assert_call_count(service, expected_calls)
    _assert_all_finished(service)
    picture = timeline.observed(service.calls, service.name)
    if service.peak > limit:
        why = (
            "Nothing held them back: a limit made inside each task (or per call) limits nothing, and one "
            "taken only before or after a call does not hold the call while it runs. Share ONE limit, "
            "held around each call."
            if service.peak == expected_calls
            else f"Is your limit made from the {limit} you were given?"
        )
        raise AssertionError(
            f"{service.peak} calls to {service.name} ran at the same time; at most {limit} may. {why}\n"
            f"observed:\n{picture}"
        )
    if margins.short_of(service.peak, limit, "peak in flight: the limit reached"):
        raise AssertionError(
            f"at most {service.peak} of your calls to {service.name} ran at the same time, though "
            f"{limit} may: keep {limit} in flight whenever there is work waiting.\nobserved:\n{picture}"
        )
