"""Exercise 09: one aiohttp ClientSession fetches many JSON URLs at once.

Every request goes to a real server on 127.0.0.1 (the `server` fixture), which records what it
was asked and answers with exact bodies and error statuses. Not aioresponses: it answers inside
aiohttp itself, so it would not see a session the learner's code opened in another process (in
judge mode the code runs in a sandbox of its own), and one test could then pass in one mode and
fail in the other.
"""

import asyncio
import contextlib
import inspect
import json
from http import HTTPStatus

import aiohttp
import pytest

from kata.testing import assert_ran_together, assert_same, describe, leaves, margins, stopwatch
from kata.testing.cancelling import LeftRunning, Run, assert_ended_cancelled
from kata.testing.caps import MANY_CALLS_STALL_LIMIT
from kata.testing.charsets import assert_text_as_sent, utf8_json
from kata.testing.own_timers import OwnTimersProbe
from kata.testing.responses import MarkingConnector, assert_used_the_session, error_pages_that_are_not_json
from kata.testing.server import LoopbackServer, Reply, hold_replies_until_requests
from kata.testing.sizes import (
    assert_every_size_ran_together,
    requests_of_each_size,
    serve_lists_of_every_size,
)
from kata.testing.waiting import assert_slept_while_the_calls_ran

DELAY = 0.2
# Every error test runs once for each family, its status drawn from that family: code that raises
# for one family only (`if response.status >= 500:`) returns the other's error body as data, and
# one status drawn from both families would let it pass whenever the draw fell its way. The first
# status of each family (400, 500) has a run of its own, every time: it is where a comparison one
# off (`> 400`, `> 500`) lets an error through as data, and a draw would find it on some runs only.
CLIENT_ERRORS = (403, 404, 409, 429)
SERVER_ERRORS = (502, 503, 504)
ERROR_FAMILIES = pytest.mark.parametrize(
    "statuses",
    [(400,), CLIENT_ERRORS, (500,), SERVER_ERRORS],
    ids=["client_error_400", "client_error_4xx", "server_error_500", "server_error_5xx"],
)
# Enough URLs that code fetching them a few at a time (batches of 5...) needs more than one batch,
# for the test that times the run (more would make its time a matter of the machine's load).
MANY_URLS = (6, 11)
# And clearly more than any cap of one's own (batches of 10 or 20, a connector capped at 10
# connections: `TCPConnector(limit=10)`, a Semaphore(40)) for the test that counts the requests the
# server holds at once, which does not depend on time: every request is answered at once once all
# have come. aiohttp's default connector allows 100 connections, above these.
ALL_AT_ONCE = (50, 81)
# How long that test's server waits for every request to arrive before answering anyway: only
# code that keeps some back waits it out.
ALL_IN_WITHIN = 1.5
# Success statuses other than 200: each is a success with a JSON body, like 200.
OTHER_SUCCESSES = (201, 202, 203)


@pytest.fixture
async def server():
    """A real HTTP server on 127.0.0.1, in this test's own event loop."""
    async with LoopbackServer() as loopback:
        yield loopback


def user_record(user_id):
    return {"id": user_id, "name": f"user-{user_id}", "tags": [f"t{user_id % 7}"]}


def assert_data(found, expected, what):
    """assert_same, with the classic cause of a coroutine in place of data spelled out."""
    if inspect.iscoroutine(found) or (isinstance(found, list) and any(map(inspect.iscoroutine, found))):
        holds = "is a coroutine" if inspect.iscoroutine(found) else "holds coroutines"
        raise AssertionError(
            f"{what} {holds}, not the data: {describe(found)}. `response.json()` only starts "
            "reading a body that may still be arriving: `return await response.json()`."
        )
    assert_same(found, expected, what)


def requested(server):
    """The (method, path) pairs the server was asked for, once per request, in order."""
    return [(call.method, call.args[0]) for call in server.calls]


def assert_asked_once_each(server, paths, who):
    """The server itself was asked for every path once (the data returned is not the only proof)."""
    asked = sorted(path for _, path in requested(server))
    if asked != sorted(paths):
        raise AssertionError(
            f"{who} should ask the server once for each URL it is given; the server was asked for "
            f"{asked or 'nothing'}, expected {sorted(paths)}. Make each request with `session.get(url)`."
        )


def every_error_status(status):
    """What a message adds when an error status came back as data: both families are errors."""
    family = "a client error (4xx)" if status < 500 else "a server error (5xx)"
    return (
        f" Status {status} is {family}, and every 4xx and 5xx status is an error: "
        "`response.raise_for_status()` belongs on every reply, with no condition on the status around it."
    )


# Two raw aiohttp errors, each the sign of one mistake with the `async with` blocks.
BODY_READ_AFTER_THE_BLOCK = (
    "{what} raised ClientConnectionError (Connection closed) while reading a body the server had "
    "sent in full: the body was read after the `async with session.get(url) as response:` block "
    "had ended, and leaving that block releases the reply, its connection and its unread body. "
    "Read the body inside the block: `return await response.json()` indented under it."
)
REQUESTS_AFTER_THE_SESSION_CLOSED = (
    "{what} raised RuntimeError (Session is closed): its requests started after the "
    "`async with aiohttp.ClientSession() as session:` block had ended, and leaving that block "
    "closes the session. Tasks created inside the block only start at the next await; await them "
    "(the gather, or the TaskGroup) inside the block, so the session closes after the last reply."
)


async def explained(what, call):
    """Await `call`, with plain words for the raw errors of the two classic block mistakes."""
    try:
        return await call
    except Exception as error:
        for leaf in leaves(error):
            if isinstance(leaf, aiohttp.ClientConnectionError) and str(leaf) == "Connection closed":
                raise AssertionError(BODY_READ_AFTER_THE_BLOCK.format(what=what)) from error
            if isinstance(leaf, RuntimeError) and str(leaf) == "Session is closed":
                raise AssertionError(REQUESTS_AFTER_THE_SESSION_CLOSED.format(what=what)) from error
        raise


def fetch_json(ex, session, url):
    return explained("fetch_json", ex.fetch_json(session, url))


def fetch_multiple_urls(ex, urls):
    return explained("fetch_multiple_urls", ex.fetch_multiple_urls(urls))


def client_response_errors(error):
    """The aiohttp.ClientResponseError in `error`, or inside it if it is an exception group."""
    return [leaf for leaf in leaves(error) if isinstance(leaf, aiohttp.ClientResponseError)]


# Text outside ASCII. `server.serve(json=...)` (web.json_response) escapes it (`"Jos\u00e9"`), which
# reads back right whatever charset the client decodes the body with; `utf8_json` sends it as raw
# UTF-8 bytes, as most servers do, and says so in the Content-Type.
NOT_ASCII_NAMES = ("José", "Zoë", "Søren", "Łukasz", "Chloé Müller", "Ñuño", "Ægir")


@pytest.mark.task(1)
async def test_fetch_json_returns_the_parsed_json_body(ex, rng, server, wake_watch):
    user_id = rng.randrange(100, 1000)
    # Its own timers are judged by what they do as the reply comes (kata.testing.own_timers): a
    # time limit of its own gives up on a slow server, a poll never sees the reply come.
    fix = "Await the request itself: `async with session.get(url)` waits however long the server takes."
    async with wake_watch(ex) as wakes, aiohttp.ClientSession() as session:
        with OwnTimersProbe(wakes, "fetch_json", server) as timers:
            reply = Reply(json=user_record(user_id))
            url = server.serve(f"/users/{user_id}", timers.reply_after(DELAY / 4, reply))
            task = asyncio.create_task(fetch_json(ex, session, url))
            result = await timers.awaited(task, user_record(user_id), fix=fix)

    assert_data(result, user_record(user_id), "fetch_json's result")
    assert_asked_once_each(server, [f"/users/{user_id}"], "fetch_json")


@pytest.mark.task(1)
async def test_fetch_json_reads_text_outside_ascii_as_the_server_sent_it(ex, rng, server):
    user_id = rng.randrange(100, 1000)
    record = {**user_record(user_id), "name": rng.choice(NOT_ASCII_NAMES), "tags": ["café", "naïve"]}
    url = server.serve(f"/users/{user_id}", utf8_json(record))

    async with aiohttp.ClientSession() as session:
        result = await fetch_json(ex, session, url)

    assert_text_as_sent(result, record, "fetch_json's result", then=assert_data)


@pytest.mark.task(1)
async def test_fetch_json_returns_the_body_of_any_success_status(ex, rng, server):
    user_id = rng.randrange(100, 1000)
    status = rng.choice(OTHER_SUCCESSES)
    url = server.serve(f"/users/{user_id}", status=status, json=user_record(user_id))

    async with aiohttp.ClientSession() as session:
        try:
            result = await fetch_json(ex, session, url)
        except aiohttp.ClientResponseError as error:
            if error.status != status:
                raise
            raise AssertionError(
                f"the server answered {url} with status {status}, a success (every 2xx status is), "
                f"and fetch_json raised ClientResponseError instead of returning its JSON body. Only "
                "4xx and 5xx are errors: `response.raise_for_status()` raises for exactly those, where "
                "`if response.status != 200:` turns every other success into an error."
            ) from None

    assert_data(result, user_record(user_id), f"fetch_json's result for a status {status} reply")


@pytest.mark.task(1)
async def test_fetch_json_asks_the_server_again_at_every_call_through_its_session(ex, rng, server):
    user_id = rng.randrange(100, 1000)
    path = f"/users/{user_id}"
    visits = []

    def changing(request):
        visits.append(request)
        return Reply(json={**user_record(user_id), "visits": len(visits)})

    url = server.serve(path, changing)
    # Two sessions, each with a connector that notes the connections it hands out: each call's
    # request must come through the session that call was given. The first session is given two
    # calls: a cache kept per session (by `id(session)`, say) hands the second one the first body.
    # Another session alone misses it in one process, where the first session is still alive
    # when the second is made and so has another id. In judge mode the learner's code sees one
    # stand-in for each of the test's sessions, kept until the test ends (kata.remote.codec's
    # Exports.hold), so ids behave as in one process.
    connectors = [MarkingConnector(), MarkingConnector()]
    n = 0
    for connector, calls in zip(connectors, (2, 1), strict=True):
        async with aiohttp.ClientSession(connector=connector) as session:
            for again in range(calls):
                n += 1
                asked_before = len(server.requests)
                result = await fetch_json(ex, session, url)
                expected = {**user_record(user_id), "visits": n}
                if n > 1 and len(visits) < n:
                    which = "with the same session" if again else "with another session"
                    raise AssertionError(
                        f"fetch_json was called again for {url}, {which}, and returned "
                        f"{describe(result)} without asking the server: the body of an earlier call "
                        "was kept and handed back, though the server's answer had changed (it now says "
                        f"visits {n}). Every call must send its own request, `session.get(url)` on the "
                        "session it is given: no cache of bodies, by URL or by session."
                    )
                assert_data(result, expected, f"fetch_json's result for call {n} to {url}")
                assert_used_the_session([connector], server.requests[asked_before:], "fetch_json")


def a_query(rng):
    """A query string of a few fields, one of them percent-encoded: part of the URL, like its path."""
    return f"?fields=name,tags&page={rng.randrange(2, 99)}&q=a%20b"


@pytest.mark.task(1)
async def test_fetch_json_asks_for_exactly_the_url_it_is_given(ex, rng, server):
    user_ids = rng.sample(range(100, 1000), 3)
    wanted = rng.choice(user_ids)
    for user_id in user_ids:
        server.serve(f"/users/{user_id}", json=user_record(user_id))
    # A query string, and a fragment (which stays in the client: aiohttp never sends it).
    query = a_query(rng)
    url = server.url(f"/users/{wanted}") + query + "#top"

    async with aiohttp.ClientSession() as session:
        result = await fetch_json(ex, session, url)

    asked = requested(server)
    if len(asked) == 1 and asked[0][1] == f"/users/{wanted}":
        raise AssertionError(
            f"fetch_json was given {url}, and the server was asked for /users/{wanted} without its "
            f"query string {query}: the URL was taken apart by hand and put back without it. The "
            "query is part of the URL the docstring asks you to GET: pass `url` to `session.get(url)` "
            "as it is."
        )
    assert_same(
        asked, [("GET", f"/users/{wanted}{query}")], "the requests fetch_json made (method, path and query)"
    )
    assert_data(result, user_record(wanted), "fetch_json's result")


def error_replies(status):
    """An error reply of `status` with each kind of body servers send with one, by kind: a JSON
    error body first (what an API sends), then the kinds that are not JSON
    (kata.testing.responses.error_pages_that_are_not_json)."""
    return {
        "a JSON body": Reply(status=status, json={"error": f"said {status}"}),
        **error_pages_that_are_not_json(status),
    }


@pytest.mark.task(1)
@ERROR_FAMILIES
async def test_fetch_json_raises_client_response_error_for_an_error_status(ex, rng, server, statuses):
    status = rng.choice(statuses)
    replies = error_replies(status)
    user_ids = rng.sample(range(100, 1000), len(replies))

    async with aiohttp.ClientSession() as session:
        for user_id, (kind, error_reply) in zip(user_ids, replies.items(), strict=True):
            # The error status comes first; a request sent after it is answered as a success, so
            # code that asks again (a retry) returns that body instead of raising, and the server
            # counts every request.
            asked = []

            def error_then_success(request, asked=asked, error_reply=error_reply, user_id=user_id):
                asked.append(request)
                if len(asked) == 1:
                    return error_reply
                return Reply(json=user_record(user_id))

            url = server.serve(f"/users/{user_id}", error_then_success)
            try:
                result = await fetch_json(ex, session, url)
            except aiohttp.ClientResponseError as error:
                if error.status != status:
                    raise AssertionError(
                        f"the ClientResponseError should carry the reply's status {status}, "
                        f"found {error.status}"
                    ) from error
                result = error
            except (ValueError, aiohttp.ClientError) as error:  # json's JSONDecodeError, say
                result = error
            shown = error_reply.text if error_reply.text is not None else error_reply.json
            with_body = f"with status {status} and {kind} ({shown!r})"
            if len(asked) > 1:
                raised = isinstance(result, Exception)
                raise AssertionError(
                    f"the server answered {url} {with_body}, and fetch_json sent {len(asked)} requests "
                    f"for it, then {'raised' if raised else 'returned ' + describe(result)}: it asked "
                    "again after the error status (a retry). The docstring asks for one request and, on "
                    "an error status, a ClientResponseError: call `response.raise_for_status()` on the "
                    "first reply and let the error reach the caller, who decides whether to try again."
                )
            if isinstance(result, aiohttp.ClientResponseError):
                continue
            if isinstance(result, Exception):
                raise AssertionError(
                    f"the server answered {url} {with_body}, and fetch_json raised "
                    f"{type(result).__name__} ({result}) instead of a ClientResponseError: it read the "
                    "body before it checked the status. An error reply's body is often not JSON, "
                    "whatever a success sends (a plain-text or HTML error page, an empty body), and "
                    "reading it fails. Call `response.raise_for_status()` first, and read the body "
                    "only once the status has passed."
                ) from result
            raise AssertionError(
                f"the server answered {url} {with_body}, but fetch_json returned {describe(result)} as "
                "if it were data. aiohttp does not raise for an error status by itself: call "
                "`response.raise_for_status()` before reading the body." + every_error_status(status)
            )


# Every error status HTTP names, 4xx and 5xx: code that raises only for the statuses it lists by
# number (the usual 400, 401, 403, 404, 429, 500, 502, 503...) returns the body of the others as data.
EVERY_ERROR_STATUS = tuple(int(status) for status in HTTPStatus if 400 <= status < 600)


@pytest.mark.task(1)
async def test_fetch_json_raises_for_every_error_status_not_only_the_usual_ones(ex, rng, server):
    # A red team's fetch_json raised only for a set of the usual error statuses: every other error
    # test draws its status from a few of those.
    user_id = rng.randrange(100, 1000)
    urls = {
        status: server.serve(f"/users/{user_id}/{status}", status=status, json={"error": f"said {status}"})
        for status in EVERY_ERROR_STATUS
    }

    returned = []
    async with aiohttp.ClientSession() as session:
        for status, url in urls.items():
            try:
                await fetch_json(ex, session, url)
            except aiohttp.ClientResponseError as error:
                if error.status != status:
                    raise AssertionError(
                        f"the ClientResponseError should carry the reply's status {status}, "
                        f"found {error.status}"
                    ) from error
                continue
            returned.append(status)

    if returned:
        shown = ", ".join(map(str, returned[:8])) + (", ..." if len(returned) > 8 else "")
        raise AssertionError(
            f"fetch_json was asked for {len(urls)} URLs, one for each error status HTTP names (400 to "
            f"{EVERY_ERROR_STATUS[-1]}), and returned the error body as data for {len(returned)} of them "
            f"(statuses {shown}). Every 4xx and 5xx status is an error, the unusual ones too: call "
            "`response.raise_for_status()` on every reply, with no condition on the status around it "
            "(no list of the statuses you know, no range narrower than 400 to 599)."
        )


class DroppingServer:
    """A bare TCP server on 127.0.0.1 that closes the connection of each of its first `drops`
    requests without a word, and answers every later one with `body` (JSON, status 200).

    Not the LoopbackServer: an aiohttp handler always answers something. aiohttp itself sends a
    GET once more when its connection drops before the reply (3.14 does, even on a new
    connection), so the requests the server counts are not the learner's alone: a trace on the
    test's session counts the requests the learner's code made."""

    def __init__(self, body, drops):
        self.body = json.dumps(body).encode()
        self.drops = drops
        self.requests = 0

    async def __aenter__(self):
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info):
        self._server.close()
        await self._server.wait_closed()

    async def _handle(self, reader, writer):
        try:
            while await reader.readuntil(b"\r\n\r\n"):  # a GET: its head, and no body
                self.requests += 1
                if self.requests <= self.drops:
                    break
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(self.body), self.body)
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.mark.task(1)
async def test_fetch_json_sends_one_request_when_the_connection_drops(ex, rng):
    user_id = rng.randrange(100, 1000)
    started = []  # one entry per request the session was asked to make (aiohttp's resends not counted)

    async def request_start(session, context, params):
        started.append(str(params.url))

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(request_start)
    # Two drops: the request the learner's code makes, and the one aiohttp sends again by itself.
    async with DroppingServer(user_record(user_id), drops=2) as dropping:
        url = f"http://127.0.0.1:{dropping.port}/users/{user_id}"
        async with aiohttp.ClientSession(trace_configs=[trace]) as session:
            try:
                result = await fetch_json(ex, session, url)
            except aiohttp.ClientError:  # ServerDisconnectedError: what the docstring lets through
                result = None

    if len(started) > 1:
        outcome = "raised" if result is None else f"returned {describe(result)}"
        raise AssertionError(
            f"the server closed the connection of the request for {url} without answering, and "
            f"fetch_json made {len(started)} requests for it, then {outcome}: it asked again after "
            "the error (a retry). The docstring asks for exactly one request per call: let the error "
            "(aiohttp's ServerDisconnectedError) reach the caller, who decides whether to try again."
        )
    if result is not None:
        raise AssertionError(
            f"the server closed the connection of the request for {url} without answering, and "
            f"fetch_json returned {describe(result)}: there was no reply to return (the server was "
            f"asked {dropping.requests} times). Make one request with the session you are given, "
            "and let the error (aiohttp's ServerDisconnectedError) reach the caller."
        )


# Bytes that are not UTF-8 in a body that says it is: "José" spelled in latin-1. JSON text is UTF-8;
# decoding it leniently (`response.text(errors="replace")`) or with a charset of one's own makes up
# characters the server never sent (a red team's fetch_json returned "Jos\ufffd").
NOT_UTF8 = b'{"id": 7, "name": "Jos\xe9"}'
# A body that is not JSON: an HTML page (aiohttp refuses its content type), a JSON reply cut short,
# and JSON whose bytes are not UTF-8.
NOT_JSON = pytest.mark.parametrize(
    "reply",
    [
        Reply(
            text="<html><body>Service unavailable, try later</body></html>",
            headers={"Content-Type": "text/html"},
        ),
        Reply(text='{"id": 7, "name": "us', headers={"Content-Type": "application/json"}),
        Reply(chunks=[NOT_UTF8], headers={"Content-Type": "application/json; charset=utf-8"}),
    ],
    ids=["html_page", "cut_short_json", "not_utf8"],
)


@pytest.mark.task(1)
@NOT_JSON
async def test_fetch_json_raises_when_the_body_is_not_json(ex, rng, server, reply):
    url = server.serve(f"/users/{rng.randrange(100, 1000)}", reply)

    async with aiohttp.ClientSession() as session:
        try:
            result = await fetch_json(ex, session, url)
        except (ValueError, aiohttp.ClientError):  # json's JSONDecodeError; aiohttp's ContentTypeError
            return

    body = reply.text if reply.text is not None else b"".join(reply.chunks)
    if isinstance(result, dict | list) and reply.text is None:
        raise AssertionError(
            f"{url} answered status 200 with a body that says it is UTF-8 JSON but is not UTF-8 "
            f"({body!r}: a latin-1 byte, 0xe9), and fetch_json returned {describe(result)}: it made "
            "up characters the server never sent. JSON text is UTF-8, and bytes that do not decode "
            "are not a JSON body: `await response.json()` raises for them, and that error should "
            'reach the caller. Do not decode leniently (`response.text(errors="replace")`) or with a '
            "charset of your own."
        )
    raise AssertionError(
        f"{url} answered status 200 with a body that is not JSON ({body!r}), and fetch_json "
        f"returned {describe(result)}. There is no parsed JSON body to return: `await response.json()` "
        "raises, and that error should reach the caller. Do not catch it (no `try/except` turning it "
        "into None or a default value)."
    )


# A JSON body larger than 64 KiB, in a few pieces a little apart: code that reads it with one
# `response.content.read(n)` gets at most n bytes, and only those arrived so far, so it parses part
# of a document. Every other test's body is a few hundred bytes, sent in one go.
# A few records with long notes (10 KB each), not thousands of small ones: the test's own work on
# the body (building it, comparing the result) stays far below the frozen loop's limit on a busy machine.
BIG_BODY_RECORDS = (8, 12)  # 80 to 120 KB of JSON, over 64 KiB every time
NOTES_BYTES = 5_000  # shown in hex: 10 KB
BIG_BODY_PIECES = 4
BIG_BODY_OVER = 0.08  # seconds from the first piece to the last


@pytest.mark.task(1)
async def test_fetch_json_reads_the_whole_body_however_large_and_however_it_arrives(ex, rng, server):
    # A red team's fetch_json returned `json.loads(await response.content.read(65536))`.
    user_ids = rng.sample(range(100, 1000), rng.randint(*BIG_BODY_RECORDS))
    records = [{**user_record(uid), "notes": rng.randbytes(NOTES_BYTES).hex()} for uid in user_ids]
    size = len(json.dumps(records))
    url = server.serve("/users", Reply.slow_body(records, over=BIG_BODY_OVER, pieces=BIG_BODY_PIECES))

    async with aiohttp.ClientSession() as session:
        try:
            result = await fetch_json(ex, session, url)
        except ValueError as error:
            raise AssertionError(
                f"{url} answered with a JSON body of {size / 1024:.0f} KiB (a list of {len(records)} "
                f"records), sent in {BIG_BODY_PIECES} pieces, and fetch_json raised {error!r}: it parsed "
                "only part of the body. One `response.content.read(n)` gives at most n bytes, and only "
                "those that have arrived so far; the rest of the body is still on its way. Read the "
                "whole body: `await response.json()` (or `await response.read()`) waits for all of it."
            ) from None

    assert_data(result, records, f"fetch_json's result for a body of {size / 1024:.0f} KiB")


@pytest.mark.task(1)
async def test_fetch_json_asks_the_server_again_after_an_error_status(ex, rng, server):
    # A red team's fetch_json remembered the URLs that had answered an error status (in a dict of
    # its module) and raised again for them without a request: every other test's URL that fails
    # is asked for once. A status of each family, every time: a cache of "not found" URLs only, or
    # of server errors only, is the same mistake.
    user_id = rng.randrange(100, 1000)
    statuses = (rng.choice((400, *CLIENT_ERRORS)), rng.choice((500, *SERVER_ERRORS)))

    async with aiohttp.ClientSession() as session:
        for status in statuses:
            asked = []

            def error_then_success(request, status=status, asked=asked):
                asked.append(request)
                if len(asked) == 1:
                    return Reply(status=status, json={"error": f"said {status}"})
                return Reply(json=user_record(user_id))

            url = server.serve(f"/users/{user_id}/{status}", error_then_success)
            # What the first call does with the error status is the other tests' to judge.
            with contextlib.suppress(aiohttp.ClientResponseError):
                await fetch_json(ex, session, url)
            asked_before = len(asked)
            try:
                result = await fetch_json(ex, session, url)
            except aiohttp.ClientResponseError as error:
                if len(asked) > asked_before:
                    raise
                result = error
            if len(asked) == asked_before:
                if isinstance(result, aiohttp.ClientResponseError):
                    outcome = f"raised ClientResponseError (status {result.status}) again"
                else:
                    outcome = f"returned {describe(result)}"
                raise AssertionError(
                    f"{url} answered status {status} to fetch_json's first call, and the server was then "
                    f"ready to answer with the record; fetch_json was called again with the same session "
                    f"and {outcome} without asking the server: the failure was remembered and handed "
                    "back. Every call sends its own request (the docstring says: no cache), and a "
                    "server that failed once may answer the next request: keep nothing from one call "
                    "to the next, errors included."
                )
            assert_data(result, user_record(user_id), f"fetch_json's result for {url}, asked a second time")


@pytest.mark.task(1)
async def test_fetch_json_sends_the_request_through_the_session_it_is_given(ex, rng, server):
    user_id = rng.randrange(100, 1000)
    url = server.serve(f"/users/{user_id}", json=user_record(user_id))
    # The connector notes each connection it hands out; the server, which connection each
    # request came on: a request sent on another session came on another connection.
    connector = MarkingConnector()

    async with aiohttp.ClientSession(connector=connector) as session:
        result = await fetch_json(ex, session, url)

    assert_data(result, user_record(user_id), "fetch_json's result")
    assert_used_the_session([connector], server.requests, "fetch_json")
    if len(server.requests) != 1:
        raise AssertionError(
            f"fetch_json sent {len(server.requests)} requests for one URL: one `session.get(url)` is enough."
        )


@pytest.mark.task(2)
async def test_results_come_back_in_the_order_of_the_urls(ex, rng, server):
    user_ids = rng.sample(range(100, 1000), 5)
    # Later URLs answer sooner, so finishing order is the reverse of the asking order. Each URL has
    # a query string, which the server must be asked for with its path.
    query = a_query(rng)
    urls = [
        server.serve(f"/users/{uid}", json=user_record(uid), delay=0.04 * (len(user_ids) - i)) + query
        for i, uid in enumerate(user_ids)
    ]

    result = await fetch_multiple_urls(ex, urls)

    assert_data(result, [user_record(uid) for uid in user_ids], "fetch_multiple_urls' result")
    assert_asked_once_each(server, [f"/users/{uid}{query}" for uid in user_ids], "fetch_multiple_urls")


@pytest.mark.stall_limit(MANY_CALLS_STALL_LIMIT)  # its calls are made in one step of the loop
@pytest.mark.task(2)
async def test_a_list_of_any_size_has_all_its_urls_fetched_at_the_same_time(ex, rng, server):
    # Every size from two up, side by side, each list's URLs under a path of its own: code can choose
    # to fetch them one after another for sizes no other test draws (a red team's, in 02).
    lists = serve_lists_of_every_size(server, rng, lambda uid: Reply(json=user_record(uid)))

    results = await asyncio.gather(*(fetch_multiple_urls(ex, list(urls)) for urls in lists.values()))

    requests = requests_of_each_size(server)
    fix = "Gather a fetch_json for every URL, whatever their number."
    assert_every_size_ran_together("fetch_multiple_urls", requests, "URLs", fix=fix, calls="requests")
    for (n, urls), result in zip(lists.items(), results, strict=True):
        expected = [user_record(uid) for uid in urls.values()]
        assert_data(result, expected, f"fetch_multiple_urls' result for {n} URLs")


# Two URLs as well as many: a learner trial's fetch_multiple_urls fetched them one after another when
# it had two or fewer, and gathered them only from three on; two is the smallest list whose requests
# can be seen to run together, so an answer sequential below any size fails it.
@pytest.mark.parametrize("size", ["two_urls", "many_urls"])
@pytest.mark.task(2)
async def test_every_url_is_fetched_at_the_same_time(ex, rng, server, wake_watch, size):
    user_ids = rng.sample(range(100, 1000), 2 if size == "two_urls" else rng.randrange(*MANY_URLS))
    fix = (
        "Await the requests instead: `await asyncio.gather(...)` sleeps until every reply is in, "
        "however long the server takes."
    )
    async with wake_watch(ex) as wakes:
        with stopwatch() as run, OwnTimersProbe(wakes, "fetch_multiple_urls", server) as timers:
            reply = timers.reply_after
            urls = [
                server.serve(f"/users/{uid}", reply(DELAY, Reply(json=user_record(uid)))) for uid in user_ids
            ]
            task = asyncio.create_task(fetch_multiple_urls(ex, urls))
            await timers.awaited(task, [user_record(uid) for uid in user_ids], fix=fix)

    assert_ran_together(server, run.elapsed - timers.held_for, expected_calls=len(urls))
    # Request tasks checked on in a loop (`while not all(t.done() ...): await asyncio.sleep(0.01)`),
    # or left alone for a fixed pause (`await asyncio.sleep(0.25)`) before their results are read,
    # run together too, and a test of the time alone passes them while the server is quick enough.
    named = {task: "fetch_multiple_urls"}
    assert_slept_while_the_calls_ran(wakes, server.calls, named, "fetch_multiple_urls", fix, probe=timers)


@pytest.mark.task(2)
async def test_every_request_is_sent_before_any_reply_comes(ex, rng, server):
    user_ids = rng.sample(range(100, 1000), rng.randrange(*ALL_AT_ONCE))
    count = len(user_ids)

    # No reply goes out before the server holds a request for every URL (for at most ALL_IN_WITHIN
    # seconds): code that asks for every URL at once is answered at once, however slowly a busy
    # machine sends its requests; code that waits for some replies before asking for the rest
    # waits out the limit, and the server never held more than its batch at once.
    hold = hold_replies_until_requests(count, at_most=ALL_IN_WITHIN)
    urls = [server.serve(f"/users/{uid}", hold(Reply(json=user_record(uid)))) for uid in user_ids]

    result = await fetch_multiple_urls(ex, urls)

    assert_data(result, [user_record(uid) for uid in user_ids], "fetch_multiple_urls' result")
    assert_asked_once_each(server, [f"/users/{uid}" for uid in user_ids], "fetch_multiple_urls")
    if server.peak < count:
        if hold.still_arriving:  # sent slowly by a busy machine, still coming as the hold gave up
            margins.cut_off(f"09 fetch_multiple_urls: every request in within {ALL_IN_WITHIN} s")
        raise AssertionError(
            f"fetch_multiple_urls was given {count} URLs, and the server never had more than "
            f"{server.peak} of their requests at once: it held every reply until all {count} had "
            f"come (for {ALL_IN_WITHIN:.1f} s after the first, longer while more kept coming), and the "
            "rest only came once replies had gone out. "
            "The docstring asks for every URL at the same time, however many there are: no batches "
            "(a gather per slice of the list), no cap of your own (a Semaphore, a connector with "
            "`limit=` below the number of URLs). Start a request for each URL, then gather them all."
        )


@pytest.mark.task(2)
async def test_one_session_is_shared_by_every_request(ex, rng, server, sessions_opened):
    # 5 to 9 URLs: a session for each batch of 4 (a learner trial's answer) opens two or more.
    user_ids = rng.sample(range(100, 1000), rng.randint(5, 9))
    held = rng.choice(user_ids)

    # Seen by the server: one session keeps the connection of a finished request open in its pool
    # for the next request to reuse, until the session closes after the last reply; a session per
    # request closes its connection as soon as its reply is read. One reply is held back until a
    # connection closes (at most DELAY seconds), so a connection closed while a request of the
    # same call still waits for its reply shows the pool was thrown away.
    async def held_back(request):
        await server.a_connection_closes(within=DELAY)
        return Reply(json=user_record(held))

    urls = [
        server.serve(f"/users/{uid}", held_back if uid == held else Reply(json=user_record(uid)))
        for uid in user_ids
    ]

    result = await fetch_multiple_urls(ex, urls)

    assert_data(result, [user_record(uid) for uid in user_ids], "fetch_multiple_urls' result")
    assert_asked_once_each(server, [f"/users/{uid}" for uid in user_ids], "fetch_multiple_urls")
    last_reply = max(call.end for call in server.calls)
    closed_early = sum(1 for moment in server.closed_at.values() if moment < last_reply)
    if closed_early:
        raise AssertionError(
            f"fetch_multiple_urls closed {closed_early} of its {server.connection_count} connections "
            f"while /users/{held} was still waiting for its reply: each finished request's connection "
            "was thrown away instead of going back to a shared pool, which is what a ClientSession "
            "per request does. Open ONE with `async with aiohttp.ClientSession() as session:` and pass "
            "it to every fetch_json call; it closes its connections once, after the last reply."
        )
    # Counted in the learner's own process in judge mode: it can add a failure, never a pass.
    opened = sessions_opened[0]
    if opened != 1:
        raise AssertionError(
            f"fetch_multiple_urls opened {opened} ClientSessions for {len(urls)} URLs; expected 1. "
            "A session holds a pool of connections for its requests to reuse: open ONE with "
            "`async with aiohttp.ClientSession() as session:` and pass it to every fetch_json call."
        )


@pytest.mark.task(2)
async def test_no_urls_means_an_empty_list(ex):
    result = await fetch_multiple_urls(ex, [])

    assert_same(result, [], "fetch_multiple_urls([])")


@pytest.mark.task(2)
@ERROR_FAMILIES
async def test_an_error_status_reaches_the_caller(ex, rng, server, statuses):
    user_ids = rng.sample(range(100, 1000), 4)
    broken_id = rng.choice(user_ids)
    status = rng.choice(statuses)
    # The error comes last: the server sends it only once every other reply is out, so no request
    # is still in flight when the error reaches the caller, however slowly replies travel (a fixed
    # delay was a guess that a loaded machine could prove wrong).
    error_body = {"error": f"the server said {status}"}
    urls = [
        server.serve(f"/users/{uid}", server.last(Reply(status=status, json=error_body)))
        if uid == broken_id
        else server.serve(f"/users/{uid}", json=user_record(uid))
        for uid in user_ids
    ]
    broken = server.url(f"/users/{broken_id}")

    try:
        result = await fetch_multiple_urls(ex, urls)
    except Exception as error:
        found = client_response_errors(error)
        if not found:
            raise
        if [(e.status, str(e.request_info.url)) for e in found] != [(status, broken)]:
            raise AssertionError(
                f"expected one ClientResponseError, status {status} for {broken}; found "
                + ", ".join(f"status {e.status} for {e.request_info.url}" for e in found)
            ) from error
        if not any(call.args == (f"/users/{broken_id}",) and call.status == status for call in server.calls):
            raise AssertionError(
                f"fetch_multiple_urls raised status {status} for {broken}, but the server was never "
                "asked for it: make every request with `session.get(url)`."
            ) from error
        return

    raise AssertionError(
        f"{broken} answered with status {status}, but fetch_multiple_urls returned "
        f"{describe(result)} without an error. Fetch every URL with fetch_json (which raises "
        "for an error status) and let the error reach the caller."
        + (every_error_status(status) if isinstance(result, list) and error_body in result else "")
    )


@pytest.mark.task(2)
async def test_an_error_without_a_status_reaches_the_caller(ex, rng, server):
    user_ids = rng.sample(range(100, 1000), 4)
    broken_id = rng.choice(user_ids)
    # Status 200 with a body that is not JSON: reading it fails with a ValueError, an error with
    # no HTTP status (not a ClientResponseError). It comes last, as in the test above.
    broken_body = f'{{"id": {broken_id}, "name": "us'
    urls = [
        server.serve(
            f"/users/{uid}",
            server.last(Reply(text=broken_body, headers={"Content-Type": "application/json"})),
        )
        if uid == broken_id
        else server.serve(f"/users/{uid}", json=user_record(uid))
        for uid in user_ids
    ]
    broken = server.url(f"/users/{broken_id}")

    try:
        result = await fetch_multiple_urls(ex, urls)
    except Exception as error:
        if any(isinstance(leaf, ValueError) for leaf in leaves(error)):
            return
        raise

    raise AssertionError(
        f"{broken} answered with a body that is not JSON ({broken_body!r}), so reading it failed, "
        f"but fetch_multiple_urls returned {describe(result)} without an error. The docstring says: "
        "if a request fails, let the error reach the caller; that means every error, not only an "
        "error status (ClientResponseError). "
        + (
            "A None in the result is an error turned into a value: do not catch errors in "
            "fetch_json to return None."
            if isinstance(result, list) and None in result
            else "Gathering with `return_exceptions=True` and then raising some of the errors drops "
            "the others: gather without it, and the first error reaches the caller."
        )
    )


@pytest.mark.task(2)
async def test_a_cancelled_call_ends_cancelled(ex, rng, server, leftovers):
    user_ids = rng.sample(range(100, 1000), 3)
    run = None

    # Each reply waits (at most 1 s) until a connection closes: the cancelled request's does.
    async def cancel_while_waiting(request):
        run.cancel("while its requests waited for their replies")
        await server.a_connection_closes(within=1.0)
        return Reply(json=user_record(int(request.path.rsplit("/", 1)[1])))

    urls = [server.serve(f"/users/{uid}", cancel_while_waiting) for uid in user_ids]
    before = leftovers.mark()
    # What it left running is taken the instant it ends, in both modes: a request task it left
    # soon fails on the session it closed, and that error is lost (seen in one process only when
    # the guard looked before that task had ended).
    run = Run(ex.fetch_multiple_urls(urls), snapshot=lambda: leftovers.at_return(before))
    finished = await run.finish(longest=2.0)

    left = None
    if not finished:
        await run.stop()
    elif run.left:
        await leftovers.stop(before)
        stopping = [f"{task.name}()" for task in run.left if task.cancelling]
        left = LeftRunning("task", stopping, [f"{task.name}()" for task in run.left if not task.cancelling])
    assert_ended_cancelled(
        run,
        "fetch_multiple_urls",
        unreached="without making its requests",
        started="its requests",
        cancel_advice="`async with` closes the session on the way out by itself.",
        left=left,
    )


@pytest.mark.task(2)
async def test_a_url_listed_twice_is_fetched_twice_each_reply_in_its_own_place(ex, rng, server, leftovers):
    user_ids = rng.sample(range(100, 1000), 4)
    repeated = rng.choice(user_ids)
    user_ids.insert(rng.randint(user_ids.index(repeated) + 1, len(user_ids)), repeated)
    # Each request for the repeated URL gets an answer of its own, as a live server's may change
    # from one request to the next; the first to arrive is answered last.
    numbers = iter(range(1, 3))

    def numbered(request):
        number = next(numbers, 0)
        return Reply(json={**user_record(repeated), "answer": number}, delay=DELAY if number == 1 else 0.0)

    urls = [
        server.serve(
            f"/users/{uid}", numbered if uid == repeated else Reply(json=user_record(uid), delay=0.05)
        )
        for uid in user_ids
    ]
    twice = f"urls was {urls}: {urls[user_ids.index(repeated)]} is listed twice"

    before = leftovers.mark()
    result = await fetch_multiple_urls(ex, urls)
    left = leftovers.at_return(before)

    if left:
        await leftovers.stop(before)
        names = ", ".join(f"{task.name}()" for task in left)
        were = "was" if len(left) == 1 else "were"
        raise AssertionError(
            f"fetch_multiple_urls returned while {len(left)} of its tasks {were} still running: {names}. "
            f"{twice}, so it is requested twice, and both requests must have ended before the session "
            "closes and the function returns. A dict keyed by URL keeps one task per URL and loses the "
            "other: keep one task for each place in urls, repeats included "
            "(`[asyncio.create_task(fetch_json(session, url)) for url in urls]`), and gather them all."
        )
    assert_asked_once_each(server, [f"/users/{uid}" for uid in user_ids], "fetch_multiple_urls")
    if type(result) is not list or len(result) != len(urls) or any(type(r) is not dict for r in result):
        raise AssertionError(
            f"fetch_multiple_urls should return a list of the {len(urls)} JSON bodies, in the order of "
            f"urls; found {describe(result)}"
        )
    answers = [r.get("answer") for r, uid in zip(result, user_ids, strict=True) if uid == repeated]
    if len(set(answers)) == 1:
        raise AssertionError(
            f"{twice}, and the server answered its two requests differently, but fetch_multiple_urls' "
            f"list holds the same body in both places (their 'answer' fields: {answers}). The other "
            "reply is lost (a dict keyed by URL keeps one task per URL): keep one task for each place "
            "in urls, repeats included, and return their bodies in that order."
        )
    assert_same(sorted(answers, key=str), [1, 2], f"the 'answer' fields of the two bodies of {repeated}")
    assert_data(
        [{key: value for key, value in r.items() if key != "answer"} for r in result],
        [user_record(uid) for uid in user_ids],
        "fetch_multiple_urls' result (without the 'answer' fields)",
    )
