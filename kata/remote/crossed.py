"""How long the last asynchronous call this task made to the other side spent crossing.

In judge mode a call the tests make on the learner's object (`async with limiter`) crosses to
the sandbox, and its outcome crosses back; a busy machine can hold either back for tens of ms.
A test that makes its calls at chosen moments (one caller at 0.13 s, four at 0.23 s) judges
what the code did at those moments, so it must know when the code saw them; and a call a test
starts the moment the learner's code lets it go (`async with limiter: await service(n)`) starts
late by the way back, which can hide a burst the code let go. kata.remote.peer notes both as each
call's outcome arrives, in the calling task; in one process nothing crosses: 0.0.
"""

from __future__ import annotations

import contextvars

_CROSSING: contextvars.ContextVar[tuple[float, float]] = contextvars.ContextVar(
    "kata_remote_crossing", default=(0.0, 0.0)
)


def last_call_began_late() -> float:
    """Seconds after this task sent its last asynchronous call that the other side began it: its
    stamp where that fits the round trip, else the most the round trip allows (never less)."""
    return _CROSSING.get()[0]


def last_call_ended_before() -> float:
    """Seconds before this task ran again that its last asynchronous call ended on the other side
    (the way back), by that side's word: a test may use it to find fault, never to excuse it."""
    return _CROSSING.get()[1]


def note_crossing(began_late: float, ended_before: float) -> None:
    """Called by the peer, in the calling task, once the call's outcome is here."""
    _CROSSING.set((began_late, ended_before))
