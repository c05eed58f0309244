"""Make aioresponses 0.7.x build responses that aiohttp >= 3.14 accepts, and start quickly.

aiohttp 3.14 added a required keyword-only `stream_writer` to
`ClientResponse.__init__`; aioresponses 0.7.9 does not pass it, so every mocked
request fails with a TypeError (aioresponses issue #289). aiohttp only reads the
writer's `output_size` when the request was already sent, so a response class
that supplies a finished, empty writer is enough. The shim is installed only when
the installed aiohttp requires the argument.

Starting aioresponses (`with aioresponses() as mocked:`) builds an autospec mock of
`ClientSession._request` each time: 10-50 ms of CPU inside the test, which a busy machine
turns into a loop "frozen" for over 0.1 s. `install_quick_start` patches in a plain
function instead; requests are matched, recorded and passed through exactly as before.
"""

from __future__ import annotations

import inspect
from typing import Any
from unittest.mock import patch

from aiohttp import ClientResponse


class _SentRequestWriter:
    """Stands in for the writer of a request that was already sent."""

    output_size = 0


class CompatClientResponse(ClientResponse):
    """A ClientResponse that can be built without a `stream_writer`."""

    def __init__(self, *args: Any, stream_writer: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, stream_writer=stream_writer or _SentRequestWriter(), **kwargs)


def aiohttp_requires_stream_writer() -> bool:
    """True when ClientResponse() cannot be built without a `stream_writer` argument."""
    parameter = inspect.signature(ClientResponse.__init__).parameters.get("stream_writer")
    return parameter is not None and parameter.default is inspect.Parameter.empty


def install() -> bool:
    """Patch aioresponses if this aiohttp needs it; return whether the shim is in place."""
    import aioresponses.core

    if aioresponses.core.ClientResponse is CompatClientResponse:
        return True
    if not aiohttp_requires_stream_writer():
        return False
    aioresponses.core.ClientResponse = CompatClientResponse
    return True


def _quick_start(self) -> None:
    """aioresponses.start, with a plain function where it built an autospec mock."""
    self._responses = []
    self._matches = {}
    mocked = self

    async def _request(session, method, url, *args, **kwargs):
        return await mocked._request_mock(session, method, url, *args, **kwargs)

    self.patcher = patch("aiohttp.client.ClientSession._request", new=_request)
    self.patcher.start()


def install_quick_start() -> None:
    """Start aioresponses without building a mock (see the module's docstring)."""
    import aioresponses.core

    aioresponses.core.aioresponses.start = _quick_start
