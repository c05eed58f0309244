"""Time limits the learner's code sets through aiohttp: a `ClientTimeout` it gives a request or a
session of its own.

aiohttp sets the timer of each field in its own code: `total` as a request starts
(helpers.TimeoutHandle.start), `connect` and `sock_connect` around getting a connection (the
connector, through `asyncio.timeout`), `sock_read` whenever a reply may go quiet
(client_proto.ResponseHandler._reschedule_timeout). Such a timer is a time limit of the learner's own
when the request is theirs (their file made it: kata.testing.waiting.WakeWatch walks from the timer
through aiohttp and asyncio to it) and it is shorter than what aiohttp sets without one (its
DEFAULT_TIMEOUT: 300 s in all, 30 s to open a socket): `ClientTimeout(total=1)` gives up on a server
slower than 1 s, as `asyncio.wait_for(..., 1)` does. aiohttp's other timers (a pool's keep-alive,
the default limits) are aiohttp's, not the code's.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from types import FrameType
from typing import Any

_folder: list[str] = []  # aiohttp's, once it is loaded


def _aiohttp_folder() -> str | None:
    if not _folder:
        where = getattr(sys.modules.get("aiohttp"), "__file__", None)
        if not isinstance(where, str):
            return None
        _folder.append(os.path.dirname(where) + os.sep)
    return _folder[0]


def in_aiohttp(frame: FrameType) -> bool:
    """Whether `frame` runs aiohttp's own code (False while aiohttp is not loaded)."""
    folder = _aiohttp_folder()
    return folder is not None and frame.f_code.co_filename.startswith(folder)


@dataclass(frozen=True)
class ClientLimit:
    """A ClientTimeout field's timer, set by aiohttp: `reader`, for `sock_read`, is the reply's
    (its ResponseHandler), whose later read timers, set again by the loop as each piece comes, are
    the same limit as its first."""

    field: str
    seconds: float
    reader: Any = None

    @property
    def how(self) -> str:
        return f"aiohttp.ClientTimeout({self.field}={self.seconds:g})"


def client_limit(setter: FrameType) -> ClientLimit | None:
    """The ClientTimeout field aiohttp sets a timer for at `setter` (kata.testing.limits.
    timer_setter: the first frame under `loop.call_at` outside asyncio), when it is shorter than
    aiohttp's default for it; None for the default, or any other timer of aiohttp's."""
    field_set = aiohttp_limit(setter)
    if field_set is None:
        return None
    field, seconds = field_set
    reader = setter.f_locals.get("self") if field == "sock_read" else None
    return ClientLimit(field, seconds, reader)


def aiohttp_limit(frame: FrameType) -> tuple[str, float] | None:
    """The ClientTimeout field and its seconds, when `frame` (the first frame under `loop.call_at`
    outside asyncio) is where aiohttp sets that field's timer, and the field is shorter than
    aiohttp's default for it (None for the default, or any other timer of aiohttp's)."""
    if not in_aiohttp(frame):
        return None
    file, function = os.path.basename(frame.f_code.co_filename), frame.f_code.co_name
    given = frame.f_locals
    if file == "helpers.py" and function == "start":
        field, seconds = "total", given.get("timeout")
    elif file == "client_proto.py" and function == "_reschedule_timeout":
        field, seconds = "sock_read", given.get("timeout")
    elif file == "connector.py":
        field = "connect" if function == "connect" else "sock_connect"
        seconds = getattr(given.get("timeout"), field, None)
    else:
        return None
    if type(seconds) not in (int, float) or not seconds > 0:
        return None
    client = sys.modules.get("aiohttp.client")
    default = getattr(getattr(client, "DEFAULT_TIMEOUT", None), field, None)
    if type(default) in (int, float) and seconds >= default:
        return None
    return field, float(seconds)
