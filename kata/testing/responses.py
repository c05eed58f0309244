"""Every reply a test's own aiohttp session received: when it came, and whether it was released.

A test makes the session it hands to the learner's function with `ResponseWatch.session()`.
aiohttp's public tracing hook (`on_request_end`) then gives the watch each response as
its headers arrive, with the time on the kata clock.

Whether a reply was released: aiohttp frees a reply by itself once its whole body has
arrived, so only a reply with a body larger than what the client buffers unread (about
640 kB here) shows the mistake: `large_error_reply` sends 2 MB. Such a reply keeps its
connection until it is released (`async with session.get(...)`, `response.release()`,
or reading the body to the end). CPython would also free it when the last reference to
it goes, which hides the mistake on that interpreter and only there; the watch holds
every reply so that an unreleased one stays visible (`unreleased()`), and releases
them all at `release_all()`.

Which requests came through that session: the server sees every request, whichever session
sent it, and a header the session adds can be copied onto another (the learner's code can
read `session.headers`). What cannot be copied is the connection: the watch's session has a
connector of the test's own that notes both ends (client and server, host and port) of the
connection each request goes out on, and the server notes both ends of the connection each
request came in on. A request the server got on a connection that connector never handed out
was sent by another session (a client port alone could be borrowed: bound again by another
session once the given one had used it with a server of the learner's own):
`assert_used_the_session` fails it, so that no verdict rests on replies the watch could not see.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import aiohttp

from kata.testing import clock
from kata.testing.server import Reply, ServedRequest, socket_end

# A body this large cannot arrive whole while nobody reads it, so aiohttp cannot free it alone:
# the client here stopped reading at about 640 kB (its buffers full) until the reply was read.
LARGE_BODY = 2 * 2**20


@dataclass
class Arrival:
    """One reply, when its headers came back (kata clock seconds)."""

    at: float
    response: aiohttp.ClientResponse

    @property
    def status(self) -> int:
        return self.response.status

    @property
    def url(self) -> str:
        return str(self.response.url)


class MarkingConnector(aiohttp.TCPConnector):
    """A TCPConnector that notes both ends, (client, server), of the connection each request
    goes out on (a pooled one again each time it is reused): what the server sees as (peer, local)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sent_from: list[tuple[tuple[str, int], tuple[str, int]]] = []

    async def connect(self, req: Any, traces: Any, timeout: aiohttp.ClientTimeout) -> Any:
        connection = await super().connect(req, traces, timeout)
        client = socket_end(connection.transport, "sockname")
        server = socket_end(connection.transport, "peername")
        if client and server:
            self.sent_from.append((client, server))
        return connection


def strays(connectors: Iterable[MarkingConnector], requests: Iterable[ServedRequest]) -> list[ServedRequest]:
    """The requests (as a LoopbackServer saw them) that came on no connection these connectors
    handed out, or more often on one than requests went out on it: another session's."""
    sent = Counter(end for connector in connectors for end in connector.sent_from)
    found = []
    for request in requests:
        key = (request.peer, request.local)
        if request.peer is not None and sent[key] > 0:
            sent[key] -= 1
        else:
            found.append(request)
    return found


class ResponseWatch:
    """Sees every reply of the sessions it makes, and the connections their requests went out on;
    use `release_all()` when done."""

    def __init__(self) -> None:
        self.arrivals: list[Arrival] = []
        self.trace_config = aiohttp.TraceConfig()
        self.trace_config.on_request_end.append(self._arrived)
        self.connectors: list[MarkingConnector] = []

    async def _arrived(self, _session: Any, _context: Any, params: aiohttp.TraceRequestEndParams) -> None:
        self.arrivals.append(Arrival(clock.perf_counter(), params.response))

    def session(self, headers: Mapping[str, str] | None = None) -> aiohttp.ClientSession:
        """A new ClientSession whose replies this watch sees, on a connector of the watch's own."""
        connector = MarkingConnector()
        self.connectors.append(connector)
        return aiohttp.ClientSession(headers=headers, connector=connector, trace_configs=[self.trace_config])

    def unreleased(self) -> list[Arrival]:
        """The replies not released (nor read to the end) so far."""
        return [arrival for arrival in self.arrivals if not arrival.response.closed]

    def release_all(self) -> None:
        for arrival in self.arrivals:
            arrival.response.release()
        self.arrivals.clear()


def assert_released(watch: ResponseWatch, function: str) -> None:
    """Fail, in plain words, if a reply the watch saw is neither released nor read to the end."""
    left = watch.unreleased()
    if not left:
        return
    first = left[0]
    what = (
        f"the reply it got from {first.url} (status {first.status}) was never released"
        if len(left) == 1
        else f"{len(left)} of the replies it got were never released, e.g. the {first.status} from "
        f"{first.url}"
    )
    raise AssertionError(
        f"{function} finished, but {what}. A reply that is not read to the end holds its connection "
        "until it is released, and a session has only so many connections: leak enough of them and the "
        "next request waits forever for one. Get each reply with `async with session.get(url) as "
        "response:`, which releases it however the block is left, by a return or a raise too; or call "
        "`response.release()` in a `finally`."
    ) from None  # whatever the learner's code raised meanwhile is not the point here


def assert_used_the_session(
    connectors: Iterable[MarkingConnector], requests: Iterable[ServedRequest], function: str
) -> None:
    """Fail, in plain words, if one of `requests` (a LoopbackServer's record) did not come through
    the session(s) on `connectors` (a ResponseWatch's `connectors`, or a test's own
    MarkingConnector): the learner's code fetched on a ClientSession of its own."""
    requests = list(requests)
    others = strays(connectors, requests)
    if not others:
        return
    what = (
        f"{len(others)} of its {len(requests)} requests"
        if len(others) < len(requests)
        else ("its request" if len(requests) == 1 else f"all {len(requests)} of its requests")
    )
    raise AssertionError(
        f"{function} made its own ClientSession: {what} reached the server (e.g. "
        f"{others[0].method} {others[0].path}), but not through the session it was given, whatever "
        "headers it copied. Use the `session` it is given (`session.get(url)`) instead of opening a "
        "ClientSession of your own: the caller owns that session, its settings and its connections, "
        "and what happens on another session is out of the caller's sight."
    ) from None


# {"error": ..., "detail": "xxx..."}, spelled out (json.dumps of 2 MB would stall the test's loop),
# and cut in pieces the server writes one at a time.
_PAGE = b'{"error": "the server is out of order", "detail": "' + b"x" * LARGE_BODY + b'"}'
_PIECE = 64 * 2**10
PACE = 0.0001
_LARGE_ERROR_PAGE = tuple(_PAGE[at : at + _PIECE] for at in range(0, len(_PAGE), _PIECE))
del _PAGE


def large_error_reply(status: int) -> Reply:
    """A JSON error page too large for aiohttp to free unread (see the module docstring).

    Its bytes are made once, and the server writes one 64 kB piece per turn of the loop
    (`chunk_delay`), so that 2 MB never hold up the test's loop in one go.
    """
    return Reply(
        status=status,
        chunks=_LARGE_ERROR_PAGE,
        headers={"Content-Type": "application/json"},
        chunk_delay=PACE,
    )


def error_pages_that_are_not_json(status: int) -> dict[str, Reply]:
    """Error replies of `status` whose body is not JSON, by kind: what a proxy, a web server or a
    framework's default error page sends (plain text, an HTML page, nothing at all, and text that
    its Content-Type calls JSON). Code that reads the body before it checks the status (`body =
    await response.json()`, then `response.raise_for_status()`) raises a decode error for these
    instead of the ClientResponseError the docstrings of 09 and 22 ask for."""
    phrase = HTTPStatus(status).phrase
    return {
        "a plain-text body": Reply(status=status, text=f"{status}: {phrase}"),
        "an HTML page": Reply(
            status=status,
            text=f"<html><body><h1>{status} {phrase}</h1></body></html>",
            headers={"Content-Type": "text/html"},
        ),
        "an empty body": Reply(status=status, text=""),
        "a body that says it is JSON but is not": Reply(
            status=status, text=phrase, headers={"Content-Type": "application/json"}
        ),
    }
