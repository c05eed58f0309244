"""Every traceback entry has a line, so a failure is reported as a failure (kata.tracebacks).

A signal handler's exception (the kata's time limit) can be raised on an instruction that has no
line of its own, such as a loop's jump back; pytest's report then broke with an internal error
and the run lost the reports of its remaining tests.
"""

import os
import subprocess
import sys
import types

import pytest

from kata.catalog import REPO_ROOT
from kata.tracebacks import give_line_numbers, line_of

# A test whose error passed through an instruction with no line, as one a signal raised there does.
STOPPED_WITHOUT_A_LINE = """
import sys
import types


def where_it_stopped():
    try:
        return sys._getframe()
    except ValueError:
        pass


def line_less(frame):
    return max(2 * unit for unit, position in enumerate(frame.f_code.co_positions()) if position[0] is None)


def test_stopped_where_there_is_no_line():
    frame = where_it_stopped()
    try:
        raise TimeoutError("stopped on a line-less instruction")
    except TimeoutError as error:
        entry = types.TracebackType(error.__traceback__, frame, line_less(frame), -1)
        assert entry.tb_lineno is None
        raise error.with_traceback(entry)


def test_the_next_test_still_runs():
    pass
"""


def _where_it_stopped():
    try:
        return sys._getframe()
    except ValueError:
        pass


def _line_less_entry(tb_next=None) -> types.TracebackType:
    """A traceback entry on an instruction of _where_it_stopped that has no line."""
    frame = _where_it_stopped()
    offsets = [2 * unit for unit, position in enumerate(frame.f_code.co_positions()) if position[0] is None]
    entry = types.TracebackType(tb_next, frame, max(offsets), -1)
    assert entry.tb_lineno is None, "this Python gives every instruction here a line"
    return entry


def _raised(error: BaseException, entry: types.TracebackType) -> BaseException:
    try:
        raise error.with_traceback(entry)
    except BaseException as raised:
        return raised


def _lines(tb: types.TracebackType | None) -> list[int | None]:
    lines = []
    while tb is not None:
        lines.append(tb.tb_lineno)
        tb = tb.tb_next
    return lines


def test_an_entry_without_a_line_gets_the_line_its_code_was_on():
    entry = _line_less_entry()
    first, last = _where_it_stopped.__code__.co_firstlineno, _where_it_stopped.__code__.co_firstlineno + 4
    assert first <= line_of(entry) <= last, f"line {line_of(entry)} is not in _where_it_stopped"


def test_every_entry_of_the_error_and_its_causes_gets_a_line():
    cause = _raised(ValueError("cause"), _line_less_entry())
    member = _raised(KeyError("member"), _line_less_entry())
    group = ExceptionGroup("group", [member])
    try:
        try:
            raise group
        except ExceptionGroup:
            raise RuntimeError("stopped") from cause
    except RuntimeError as error:
        error.__traceback__ = _line_less_entry(error.__traceback__)
        assert error.__context__ is group
        assert give_line_numbers(error)
        for exc in (error, cause, member):
            assert None not in _lines(exc.__traceback__), f"{exc!r} kept an entry without a line"
        assert len(_lines(error.__traceback__)) == 2, "the traceback lost or gained entries"


def test_a_traceback_with_every_line_is_left_as_it_is():
    try:
        raise ValueError("plain")
    except ValueError as error:
        tb = error.__traceback__
        assert not give_line_numbers(error)
        assert error.__traceback__ is tb


@pytest.mark.timeout(90)
def test_an_error_without_a_line_is_reported_as_the_tests_failure(tmp_path):
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["kata.plugin"]\n')
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    )
    (tmp_path / "test_stopped.py").write_text(STOPPED_WITHOUT_A_LINE)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_stopped.py"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    out = done.stdout + done.stderr
    assert "INTERNALERROR" not in out, f"pytest broke on the entry without a line:\n{out[-3000:]}"
    assert "1 failed, 1 passed" in out, (
        f"the failure should be reported, and the next test run:\n{out[-3000:]}"
    )
    assert "TimeoutError: stopped on a line-less instruction" in out, out[-3000:]
    assert "where_it_stopped" in out, f"the report should show where the code stopped:\n{out[-3000:]}"
