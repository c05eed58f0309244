"""What a failing test's note "what this test calls, in your code" names: the learner's functions,
and the methods of the learner's classes, that the test reaches (kata.checked_names), at the lines
that define them (kata.where.defined_at)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from kata import where
from kata.checked_names import names_checked

TESTS = """
async def test_a_function(ex):
    assert await ex.fetch_all([1]) == [1]


async def test_a_method_of_an_object_the_test_made(ex):
    cache = ex.Cache(fetch)
    assert await cache.get(1) == 1


async def test_a_context_manager_the_test_made(ex):
    limiter = ex.RateLimiter(2, 1.0)
    async with limiter:
        pass


async def test_a_class_handed_to_a_helper(ex, rng):
    await check_released(ex.Lease, rng)


async def check_released(make, rng):
    async with make(pool()) as conn:
        use(conn)


def fetch(key):
    return key


def pool():
    return None


def use(conn):
    return conn
"""

LEARNER = """
async def fetch_all(ids):
    return ids


class Cache:
    def __init__(self, fetch):
        self.fetch = fetch

    async def get(self, key):
        return self.fetch(key)


class RateLimiter:
    def __init__(self, rate, per):
        self.rate = rate

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc_info):
        return None


class Lease:
    async def __aenter__(self):
        return 1

    async def __aexit__(self, *exc_info):
        return None
"""


def _tests(tmp_path: Path) -> dict:
    path = tmp_path / "test_99_names.py"
    path.write_text(textwrap.dedent(TESTS))
    namespace: dict = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    return namespace


def test_a_function_the_test_calls_is_named(tmp_path):
    assert names_checked(_tests(tmp_path)["test_a_function"]) == ["fetch_all"]


def test_a_method_called_on_an_object_the_test_made_is_named_with_its_class(tmp_path):
    named = names_checked(_tests(tmp_path)["test_a_method_of_an_object_the_test_made"])
    assert named == ["Cache", "Cache.get"]


def test_async_with_on_an_object_the_test_made_names_its_aenter_and_aexit(tmp_path):
    named = names_checked(_tests(tmp_path)["test_a_context_manager_the_test_made"])
    assert named == ["RateLimiter", "RateLimiter.__aenter__", "RateLimiter.__aexit__"]


def test_a_class_handed_to_a_helper_is_followed_under_the_helpers_parameter(tmp_path):
    named = names_checked(_tests(tmp_path)["test_a_class_handed_to_a_helper"])
    assert named == ["Lease", "Lease.__aenter__", "Lease.__aexit__"]


def test_the_lines_shown_are_the_methods_not_the_class_line(tmp_path):
    """Learner trials: a wrong __aexit__ was shown at its `class Lease:` line, a wrong `get` at
    `class Cache:`; the method is the line to look at."""
    learner = tmp_path / "99_names.py"
    learner.write_text(LEARNER)
    lines = LEARNER.splitlines()
    places = where.defined_at(learner, ["Lease", "Lease.__aenter__", "Lease.__aexit__", "fetch_all"])
    shown = [(lines[p.line - 1].strip(), p.function) for p in places]
    assert shown == [
        ("async def __aenter__(self):", "__aenter__"),
        ("async def __aexit__(self, *exc_info):", "__aexit__"),
        ("async def fetch_all(ids):", "fetch_all"),
    ], shown
    alone = where.defined_at(learner, ["Cache", "Cache.missing"])
    assert [(p.line, p.function) for p in alone] == [(6, "Cache")], (
        "a class none of whose methods are found stays"
    )
