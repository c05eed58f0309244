"""The signature of a callable the other side lends, for `inspect.signature` on its stand-in.

In one process a learner's guard `len(inspect.signature(predicate).parameters) != 1` reads the
test's own function. In batch grading the learner's code holds a stand-in, and a learner trial's
correct 08 answer failed 8 tests in judge mode alone on that guard. So a stand-in answers
`__signature__`: its owner sends the parameters' names and kinds, and whether each has a
default (shown as the owner's repr of it: only its text crosses, never the value), and the
stand-in builds an `inspect.Signature` of them. Annotations do not cross.
"""

from __future__ import annotations

import inspect
from typing import Any

SIGNATURE = "__signature__"
MAX_PARAMETERS = 64
MAX_TEXT = 200


_P = inspect.Parameter
_KINDS = {
    int(kind): kind
    for kind in (
        _P.POSITIONAL_ONLY,
        _P.POSITIONAL_OR_KEYWORD,
        _P.VAR_POSITIONAL,
        _P.KEYWORD_ONLY,
        _P.VAR_KEYWORD,
    )
}


class _Default:
    """A default the owner's side holds: its repr is the owner's, its value stays there."""

    __slots__ = ("_text",)

    def __init__(self, text: str) -> None:
        self._text = text

    def __repr__(self) -> str:
        return self._text


def signature_data(function: Any) -> list | None:
    """`function`'s signature as plain data, [[name, kind, default's repr or None], ...]; None
    where it has none (inspect.signature raises) or too many parameters to send."""
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError, KeyError):
        return None
    if len(parameters) > MAX_PARAMETERS:
        return None
    return [
        [
            p.name,
            int(p.kind),
            None if p.default is inspect.Parameter.empty else _repr(p.default),
        ]
        for p in parameters
    ]


def _repr(value: Any) -> str:
    try:
        return repr(value)[:MAX_TEXT]
    except Exception:
        return "..."


def signature_from(data: Any) -> inspect.Signature | None:
    """The Signature `signature_data` sent; None for anything malformed."""
    if type(data) is not list or len(data) > MAX_PARAMETERS:
        return None
    parameters = []
    try:
        for item in data:
            name, kind, default = item
            if (
                type(name) is not str
                or type(kind) is not int
                or not (default is None or type(default) is str)
            ):
                return None
            parameters.append(
                inspect.Parameter(
                    name,
                    _KINDS[kind],
                    default=inspect.Parameter.empty if default is None else _Default(default[:MAX_TEXT]),
                )
            )
        return inspect.Signature(parameters)
    except (TypeError, ValueError, KeyError):
        return None
