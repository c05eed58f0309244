"""Looking inside exception groups, so a TaskGroup answer and a gather answer are judged alike."""

from __future__ import annotations


def leaves(error: BaseException) -> list[BaseException]:
    """The exceptions inside an ExceptionGroup (nested ones too), or just [error]."""
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in leaves(inner)]
    return [error]


def holds(error: BaseException, expected: BaseException) -> bool:
    """True when `error` is `expected`, or an exception group with that very object inside."""
    return any(leaf is expected for leaf in leaves(error))
