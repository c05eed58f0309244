"""A real HTTP server on 127.0.0.1 for tests of HTTP client code, with instruments.

Mocked HTTP (aioresponses) never opens a socket, so timeouts, connection limits
and streaming cannot be seen through it. `LoopbackServer` is a small aiohttp app
on a free loopback port: each path answers with a configured `Reply` (JSON or
text, status, latency, optional streamed chunks), and every request is recorded
with its start and end on the kata clock, the peak number in flight, the TCP
connection it came on and its headers; each connection's close is recorded too.

    async with LoopbackServer() as server:
        url = server.serve("/users/7", json={"id": 7}, delay=0.2)
        ...  # the code under test fetches url
        assert server.peak == 1

Open it in the test's own event loop (a function-scoped async fixture): a server
from another loop hangs the client. The server quacks like a `FakeService`
(`name`, `calls`, `peak`, `delay_for`, `overlapped`), so `assert_ran_together`
and the timeline pictures work on it unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json as _json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
from multidict import CIMultiDict

from kata.testing import clock
from kata.testing.fakes import Call
from kata.testing.hold_ends import StartsSeen

# Handlers still running when a test ends are cancelled after this long, so a
# broken client cannot hold the teardown for aiohttp's default 60 s.
SHUTDOWN_TIMEOUT = 0.25
# A reply served `last` waits at most this long for the other routes' requests (code that never
# makes them all must not hang), looking every LAST_POLL seconds.
LAST_WITHIN = 1.0
LAST_POLL = 0.005
# Replies held by `hold_replies_until_requests` wait this long after the first request for the
# rest (longer while they are still arriving: kata.testing.hold_ends).
HOLD_AT_MOST = 1.0


@dataclass(frozen=True)
class Reply:
    """What the server answers to one request.

    json:        the body, encoded as JSON (used when neither text nor chunks is given).
    status:      the HTTP status code.
    delay:       seconds to wait before answering (the latency of the call).
    text:        a plain-text body instead of JSON.
    headers:     extra response headers.
    chunks:      stream the body in these pieces instead ...
    chunk_delay: ... waiting this long before each piece,
    before_piece: ... and then awaiting this, if given, before each piece after the first (a test
                 that holds the stream: kata.testing.own_timers.OwnTimersProbe.pieces_held).

    `Reply.slow_body(...)` builds a JSON reply that is quick to start and slow to finish.
    """

    json: Any = None
    status: int = 200
    delay: float = 0.0
    text: str | None = None
    headers: Mapping[str, str] | None = None
    chunks: Sequence[bytes] = ()
    chunk_delay: float = 0.0
    before_piece: Callable[[], Awaitable[None]] | None = None

    @classmethod
    def slow_body(cls, json: Any, over: float, pieces: int = 20, status: int = 200) -> Reply:
        """JSON whose headers go out at once and whose body then comes in `pieces` parts over
        `over` seconds: a time limit that stops counting once the headers are in misses it."""
        body = _json.dumps(json).encode()
        size = -(-len(body) // pieces)
        parts = [body[at : at + size] for at in range(0, len(body), size)]
        return cls(
            status=status,
            headers={"Content-Type": "application/json"},
            chunks=parts,
            chunk_delay=over / len(parts),
        )


# A reply can also be computed per request, e.g. 429 once too many are in flight.
ReplyFunction = Callable[["ServedRequest"], "Reply | Awaitable[Reply]"]

NO_ROUTE = Reply(json={"error": "no such route on the test server"}, status=404)


@dataclass
class ServedRequest(Call):
    """One request the server received; `args` is `(path_qs,)` for the FakeService checks."""

    method: str = "GET"
    path: str = ""
    query: dict[str, str] = field(default_factory=dict)
    headers: CIMultiDict[str] = field(default_factory=CIMultiDict)
    body: bytes = b""
    connection: int = 0  # 1, 2, ...: which client TCP connection it arrived on
    peer: tuple[str, int] | None = None  # that connection's client end (host, port)
    local: tuple[str, int] | None = None  # and its server end
    delay: float = 0.0
    status: int | None = None

    def label(self, name: str) -> str:
        return f"{self.method} {self.args[0]}"


def socket_end(transport: Any, which: str) -> tuple[str, int] | None:
    """One end of a TCP connection, (host, port): "peername" the far end, "sockname" this one."""
    end = transport.get_extra_info(which) if transport is not None else None
    return (end[0], end[1]) if end else None


class LoopbackServer:
    """An instrumented aiohttp server on 127.0.0.1; use it with `async with`."""

    def __init__(self, name: str = "the server") -> None:
        self.name = name
        self.requests: list[ServedRequest] = []
        self.in_flight = 0
        self.peak = 0
        self._routes: dict[tuple[str, str], Reply | ReplyFunction] = {}
        self._connections: dict[Any, int] = {}
        self._handlers: dict[Any, int] = {}  # aiohttp's protocol object per connection -> its number
        self.closed_at: dict[int, float] = {}  # connection number -> when it closed (kata clock)
        self._a_connection_closed = asyncio.Event()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._server = TestServer(app, host="127.0.0.1")

    async def __aenter__(self) -> LoopbackServer:
        # start_server() rather than TestServer's own __aenter__, which has no way
        # to pass the shutdown timeout.
        await self._server.start_server(shutdown_timeout=SHUTDOWN_TIMEOUT)
        # aiohttp tells its Server (the connection manager) of every connection that ends.
        manager = self._server.runner.server
        forget = manager.connection_lost

        def connection_lost(handler: Any, exc: BaseException | None = None) -> None:
            number = self._handlers.pop(handler, None)
            if number is not None and number not in self.closed_at:
                self.closed_at[number] = clock.perf_counter()
                self._a_connection_closed.set()
            forget(handler, exc)

        manager.connection_lost = connection_lost
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._server.close()

    # -- configuring -------------------------------------------------------

    def serve(
        self, path: str, reply: Reply | ReplyFunction | None = None, *, method: str = "GET", **fields: Any
    ) -> str:
        """Answer `method path` with `reply` (or `Reply(**fields)`); return the full URL.

        `reply` may be a function of the `ServedRequest` (sync or async) returning
        a `Reply`. Routes can be changed at any time; unknown paths answer 404.
        """
        if reply is not None and fields:
            raise TypeError("give either a reply or Reply fields, not both")
        self._routes[(method.upper(), path)] = reply if reply is not None else Reply(**fields)
        return self.url(path)

    def last(self, reply: Reply, within: float = LAST_WITHIN) -> ReplyFunction:
        """A reply function for `serve`: `reply`, once every other route on this server has had a
        request answered (for at most `within` seconds).

        For a test whose error reply must come last, when no other request is still in flight: a
        delay only guesses that the others are done by then, and a loaded machine can make it wrong.
        What the server sees is its handler having returned the reply; one more look lets those
        replies go out first."""

        async def answer_last(request: ServedRequest) -> Reply:
            others = [route for route in self._routes if route != (request.method, request.path)]
            deadline = clock.perf_counter() + within
            while not self._answered(others) and clock.perf_counter() < deadline:
                await asyncio.sleep(LAST_POLL)
            await asyncio.sleep(LAST_POLL)
            return reply

        return answer_last

    def _answered(self, routes: list[tuple[str, str]]) -> bool:
        """Whether each of `routes` (method, path) has had a request that the server has finished."""
        done = {(r.method, r.path) for r in self.requests if r.end is not None}
        return all(route in done for route in routes)

    def url(self, path: str) -> str:
        """The full URL of `path` on this server, e.g. http://127.0.0.1:41234/users/7."""
        return str(self._server.make_url(path))

    def reset(self) -> None:
        """Forget the requests seen so far (routes stay)."""
        self.requests.clear()
        self._connections.clear()
        self._handlers.clear()
        self.closed_at.clear()
        self._a_connection_closed.clear()
        self.peak = self.in_flight

    # -- what was seen -----------------------------------------------------

    @property
    def calls(self) -> list[ServedRequest]:
        """The requests, in arrival order (the name the FakeService checks use)."""
        return self.requests

    @property
    def connection_count(self) -> int:
        """How many distinct client TCP connections carried the requests."""
        return len(self._connections)

    async def a_connection_closes(self, within: float) -> bool:
        """Wait until a client closes a connection it made (or has closed one), for at most
        `within` seconds; whether one did."""
        try:
            await asyncio.wait_for(self._a_connection_closed.wait(), within)
        except TimeoutError:
            return False
        return True

    async def every_request_handled(self, within: float) -> bool:
        """Wait until the server has finished with every request it got, for at most `within`
        seconds; whether it has."""
        deadline = clock.perf_counter() + within
        while any(r.end is None for r in self.requests):
            if clock.perf_counter() >= deadline:
                return False
            await asyncio.sleep(0.01)
        return True

    def delay_for(self, path_qs: str) -> float:
        """The latency the server gave (or would give) a request for `path_qs`."""
        delays = [r.delay for r in self.requests if r.args == (path_qs,)]
        if delays:
            return max(delays)
        path = path_qs.split("?", 1)[0]
        planned = [r.delay for (_, p), r in self._routes.items() if p == path and isinstance(r, Reply)]
        return max(planned, default=0.0)

    def overlapped(self) -> bool:
        """True when every request was being handled at one shared moment."""
        if not self.requests or any(r.end is None for r in self.requests):
            return False
        return max(r.start for r in self.requests) < min(r.end for r in self.requests)

    # -- serving -----------------------------------------------------------

    def _connection_number(self, request: web.Request, peer: tuple[str, int] | None) -> int:
        key = peer if peer is not None else id(request.protocol)
        number = self._connections.setdefault(key, len(self._connections) + 1)
        if number not in self.closed_at:
            self._handlers.setdefault(request.protocol, number)
        return number

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        peer = socket_end(request.transport, "peername")
        served = ServedRequest(
            args=(request.path_qs,),
            start=clock.perf_counter(),
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers=CIMultiDict(request.headers),
            connection=self._connection_number(request, peer),
            peer=peer,
            local=socket_end(request.transport, "sockname"),
        )
        self.requests.append(served)
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            served.body = await request.read()
            reply = self._routes.get((request.method, request.path), NO_ROUTE)
            if not isinstance(reply, Reply):
                reply = reply(served)
                if inspect.isawaitable(reply):
                    reply = await reply
            served.delay = max(served.delay, reply.delay)  # a reply function may have waited itself
            if reply.delay:
                await asyncio.sleep(reply.delay)
            served.status = reply.status
            response, sent = await self._respond(request, reply)
            served.outcome = "returned" if sent else "cancelled"
            return response
        except asyncio.CancelledError:  # the client went away (or the server is closing)
            served.outcome = "cancelled"
            raise
        except BaseException:
            served.outcome = "raised"
            raise
        finally:
            served.end = clock.perf_counter()
            self.in_flight -= 1

    @staticmethod
    async def _respond(request: web.Request, reply: Reply) -> tuple[web.StreamResponse, bool]:
        """The response, and False when the client went away before a streamed body was all sent."""
        headers = dict(reply.headers or {})
        if not reply.chunks:
            if reply.text is not None:
                return web.Response(text=reply.text, status=reply.status, headers=headers), True
            return web.json_response(reply.json, status=reply.status, headers=headers), True
        response = web.StreamResponse(status=reply.status, headers=headers)
        await response.prepare(request)
        try:
            for number, chunk in enumerate(reply.chunks):
                if reply.chunk_delay:
                    await asyncio.sleep(reply.chunk_delay)
                if number and reply.before_piece is not None:
                    await reply.before_piece()
                await response.write(chunk)
            await response.write_eof()
        except ConnectionResetError:
            # The client released the reply unread, or gave up on it: not the server's error,
            # so no error log (formatting its traceback would stall the test's loop).
            return response, False
        return response, True


def hold_replies_until_requests(count: int, at_most: float = HOLD_AT_MOST) -> HeldUntilRequests:
    """A wrapper for `serve`: `hold(reply)` answers `reply` only once `count` requests for the
    replies wrapped by this same `hold` have arrived; once the hold has given up, nothing is held
    again.

        hold = hold_replies_until_requests(len(paths), at_most=1.5)
        urls = [server.serve(path, hold(Reply(json=n))) for n, path in enumerate(paths)]
        ...  # the code under test fetches urls
        assert server.peak == len(paths)  # it asked for every URL at once

    For a test that counts how many requests a client keeps in flight at once. With quick replies
    the count depends on how fast a busy machine sends the requests, and with slow ones on a guess
    of how slow is enough. Held, code that asks for every URL at once is answered as soon as its
    last request is in, however slowly they came, and the server sees all of them at once; code
    that keeps some back (batches, a cap of its own) never brings the count up, so the server
    never sees more than it let through. The hold gives up `at_most` s after the first request,
    later while requests are still arriving (kata.testing.hold_ends; `hold.still_arriving` says it
    gave up so), and then every reply goes, the later ones too: held each in turn, code that sends
    its requests one after another would wait out the limit once per request, past the test's own
    time limit (a hang 09 had)."""
    return HeldUntilRequests(count, at_most)


class HeldUntilRequests:
    """`hold_replies_until_requests`: the requests its replies wait for, and when it gave up."""

    def __init__(self, count: int, at_most: float) -> None:
        self.count, self.arrived = count, 0
        self.starts = StartsSeen(at_most)
        self._all_in = asyncio.Event()

    def __call__(self, reply: Reply) -> ReplyFunction:
        async def held(request: ServedRequest) -> Reply:
            self.arrived += 1
            self.starts.started(clock.perf_counter())
            if self.reached:
                self._all_in.set()
            due = clock.perf_counter()
            while not self._all_in.is_set():
                now = clock.perf_counter()
                left = self.starts.left(now, late=now - due)
                if left <= 0:
                    self.starts.give_up(now)
                    self._all_in.set()  # some never came: let every reply go, for good
                    break
                due = now + left
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._all_in.wait(), left)
            return reply

        return held

    @property
    def reached(self) -> bool:
        """Whether every request it waits for has come."""
        return self.arrived >= self.count

    @property
    def still_arriving(self) -> bool:
        """Whether the hold gave up before every request came, while they were still arriving: a
        busy machine sending them slowly, not a cap of the code's own."""
        return not self.reached and self.starts.still_starting
