"""What exercise tests import: fakes with latency, timelines and learner-facing checks.

`LoopbackServer` is a real aiohttp server on 127.0.0.1 with the same instrumentation; it (and
aiohttp, about 0.1 s to import) is loaded only by the tests that use it.
The pytest plugin (kata.plugin) adds the fixtures `ex` (the learner's module),
`rng` (seeded random inputs) and guards every test against blocking, leaked
tasks, lost errors and never-awaited coroutines.
"""

from kata.testing.checks import (
    assert_call_count,
    assert_peak_in_flight,
    assert_ran_one_at_a_time,
    assert_ran_together,
    assert_same,
    assert_started_in_order,
    describe,
    not_all_at_once,
    same,
    stopwatch,
)
from kata.testing.errors import holds, leaves
from kata.testing.fakes import Call, FakeService
from kata.testing.pausing import pause_unless_failed
from kata.testing.timeline import observed as draw_timeline

__all__ = [
    "Call",
    "FakeService",
    "LoopbackServer",
    "Reply",
    "ServedRequest",
    "assert_call_count",
    "assert_peak_in_flight",
    "assert_ran_one_at_a_time",
    "assert_ran_together",
    "assert_same",
    "assert_started_in_order",
    "describe",
    "draw_timeline",
    "holds",
    "leaves",
    "not_all_at_once",
    "pause_unless_failed",
    "same",
    "stopwatch",
]


_FROM_SERVER = ("LoopbackServer", "Reply", "ServedRequest")


def __getattr__(name: str):
    if name in _FROM_SERVER:
        from kata.testing import server

        return getattr(server, name)
    raise AttributeError(f"module 'kata.testing' has no attribute {name!r}")
