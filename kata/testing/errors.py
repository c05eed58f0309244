"""Errors for the tests: looking inside exception groups, so a TaskGroup answer and a gather answer
are judged alike, and `Aborted`, the BaseException the tests raise into the learner's code."""

from __future__ import annotations


def leaves(error: BaseException) -> list[BaseException]:
    """The exceptions inside an ExceptionGroup (nested ones too), or just [error]."""
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in leaves(inner)]
    return [error]


def holds(error: BaseException, expected: BaseException) -> bool:
    """True when `error` is `expected`, or an exception group with that very object inside."""
    return any(leaf is expected for leaf in leaves(error))


class Aborted(BaseException):
    """An error that is neither an Exception nor a cancellation, raised by a test's fake (a job, a
    call, a block, a source). It stands in for SystemExit (`sys.exit()`), KeyboardInterrupt or a
    library's own BaseException: asyncio lets the first two out of the event loop, past the test, so
    the tests raise this one. Cleanup written for `(Exception, asyncio.CancelledError)` misses it."""
