"""What exercise tests import: fakes with latency, timelines and learner-facing checks.

The pytest plugin (kata.plugin) adds the fixtures `ex` (the learner's module),
`rng` (seeded random inputs) and guards every test against blocking, leaked
tasks, lost errors and never-awaited coroutines.
"""

from kata.testing.checks import (
    assert_call_count,
    assert_ran_one_at_a_time,
    assert_ran_together,
    assert_same,
    assert_started_in_order,
    describe,
    same,
    stopwatch,
)
from kata.testing.fakes import Call, FakeService

__all__ = [
    "Call",
    "FakeService",
    "assert_call_count",
    "assert_ran_one_at_a_time",
    "assert_ran_together",
    "assert_same",
    "assert_started_in_order",
    "describe",
    "same",
    "stopwatch",
]
