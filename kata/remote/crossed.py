"""How late the other side began the last asynchronous call this task made there.

In judge mode a call the tests make on the learner's object (`async with limiter`) crosses to
the sandbox, and a busy machine can hold it back for tens of ms before the learner's code runs.
A test that makes its calls at chosen moments (one caller at 0.13 s, four at 0.23 s) judges
what the code did at those moments, so it must know when the code saw them. kata.remote.peer
sets this as each asynchronous call's outcome arrives; in one process nothing crosses: 0.0.
"""

from __future__ import annotations

import contextvars

_BEGAN_LATE: contextvars.ContextVar[float] = contextvars.ContextVar("kata_remote_began_late", default=0.0)


def last_call_began_late() -> float:
    """Seconds after this task sent its last asynchronous call that the other side began it
    (at most: see kata.remote.peer.began_after); 0.0 when no call crossed."""
    return _BEGAN_LATE.get()


def note_began_late(seconds: float) -> None:
    """Called by the peer, in the calling task, once the call's outcome is here."""
    _BEGAN_LATE.set(seconds)
