"""Line numbers for every entry of a traceback, so that no report breaks on a missing one.

Python (3.11 and later) has instructions with no line of their own: a loop's jump back, an
exception handler's cleanup. An exception raised there, as a signal handler's is (the kata's
time limit, a Ctrl-C), leaves a traceback entry whose `tb_lineno` is None, and pytest's report
then fails with an internal error instead of the test's failure: under load the alarm found
selectors.select() on its loop's jump back, and a whole run of tests lost its report.
"""

from __future__ import annotations

import types
from types import CodeType, TracebackType


def line_at(code: CodeType, offset: int) -> int:
    """The line the code was on at `offset`: the last line that started at or before it, or the
    function's first line."""
    line = None
    for unit, (start, *_) in enumerate(code.co_positions()):
        if unit * 2 > offset:
            break
        if start is not None:
            line = start
    return line if line is not None else code.co_firstlineno


def line_of(tb: TracebackType) -> int:
    """The line of this traceback entry, even where the instruction has none."""
    if tb.tb_lineno is not None:
        return tb.tb_lineno
    return line_at(tb.tb_frame.f_code, tb.tb_lasti)


def _numbered(tb: TracebackType | None) -> TracebackType | None:
    """`tb` itself when every entry has its line; else the same entries, each with a line."""
    entries = []
    while tb is not None:
        entries.append(tb)
        tb = tb.tb_next
    if all(entry.tb_lineno is not None for entry in entries):
        return entries[0] if entries else None
    rebuilt = None
    for entry in reversed(entries):
        rebuilt = types.TracebackType(rebuilt, entry.tb_frame, entry.tb_lasti, line_of(entry))
    return rebuilt


def give_line_numbers(error: BaseException) -> bool:
    """Give every entry of the tracebacks of `error`, of the exceptions it was raised from or
    during, and of an exception group's members a line number. Whether any lacked one."""
    changed = False
    seen: set[int] = set()
    pending = [error]
    while pending:
        exc = pending.pop()
        if exc is None or id(exc) in seen:
            continue
        seen.add(id(exc))
        numbered = _numbered(exc.__traceback__)
        if numbered is not exc.__traceback__:
            exc.__traceback__ = numbered
            changed = True
        pending += [exc.__cause__, exc.__context__]
        if isinstance(exc, BaseExceptionGroup):
            pending += list(exc.exceptions)
    return changed
