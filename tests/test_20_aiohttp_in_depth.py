"""Exercise 20: aiohttp against a real server: timeouts, statuses, connection limits, streaming.

Every test talks to a real HTTP server on 127.0.0.1 (the `server` fixture):
mocked HTTP (aioresponses) never opens a connection, so it ignores ClientTimeout
and TCPConnector limits and cannot stream. The server records each request's start,
end and outcome ("cancelled" when the client went away), and how many were in
flight at once. Where a test makes the session, a `ResponseWatch` sees every reply
it gets, and so whether each was released; and since the server tells which connection each
request came on, a request sent on another session (whatever headers it copied) fails there.
"""

import asyncio
import gzip
import json
import socket
from collections import Counter
from dataclasses import replace
from functools import partial

import aiohttp
import pytest
import yarl

from kata.testing import (
    FakeService,
    Reply,
    assert_peak_in_flight,
    assert_ran_together,
    assert_same,
    clock,
    describe,
    draw_timeline,
    leaves,
    margins,
    same,
    server_cancels,
    stopwatch,
)
from kata.testing.cancelling import Run, assert_ended_after_the_cancel, assert_ended_cancelled, settle
from kata.testing.caps import MANY_CALLS_STALL_LIMIT
from kata.testing.charsets import assert_text_as_sent, utf8_json
from kata.testing.clock import EARLY_WAKE
from kata.testing.differences import assert_same_parts
from kata.testing.limits import assert_no_time_added
from kata.testing.own_timers import OwnTimersProbe
from kata.testing.responses import ResponseWatch, assert_released, large_error_reply
from kata.testing.responses import assert_used_the_session as assert_the_session_alone
from kata.testing.second_cancel import assert_no_request_left_running_after_a_second_cancel
from kata.testing.server import LoopbackServer, hold_replies_until_requests
from kata.testing.sizes import (
    assert_every_size_ran_together,
    requests_of_each_size,
    serve_lists_of_every_size,
)
from kata.testing.waiting import QUIET_BEFORE, QUIET_FROM, assert_slept_between

DELAY = 0.2
# A slow endpoint answers long after any sensible timeout, so giving up in time
# and waiting for it cannot be confused.
SLOW = 2.0
# How long after the client gives up the server may take to see the connection close.
NOTICE_WITHIN = 0.5
CLIENT_ERRORS = (400, 403, 404, 409, 429)
SERVER_ERRORS = (500, 502, 503, 504)
# The two sides of the line every run: 400 drawn among the client errors let `status > 400` pass
# four runs in five, and a 399 is what `status >= 300` or `status != 200` gets wrong.
FIRST_ERROR = 400
LAST_SUCCESS = 399
AWAIT_THE_REQUESTS = "Await the requests themselves: an `await` sleeps until the reply is in, however long."
# Every run checks a status of each family: one draw from both let code that raises for only one
# family (`if response.status >= 500`) pass whenever the draw fell in it.
ERROR_FAMILIES = pytest.mark.parametrize(
    "statuses",
    # The 4xx drawn is never 400, which has a case of its own: a mistake at the line fails that
    # case alone, on every seed (a variant says which tests it fails).
    [(FIRST_ERROR,), tuple(s for s in CLIENT_ERRORS if s != FIRST_ERROR), SERVER_ERRORS],
    ids=["first_error_400", "client_error_4xx", "server_error_5xx"],
)
JSON_HEADERS = {"Content-Type": "application/json"}


@pytest.fixture
async def server():
    """A real HTTP server on 127.0.0.1, in this test's own event loop."""
    async with LoopbackServer() as loopback:
        yield loopback


def assert_used_the_session(server, watch, function):
    """Fail unless requests reached the server, every one through the session the watch made."""
    if not server.requests:
        raise AssertionError(f"{function} never sent a request to the server.")
    assert_the_session_alone(watch.connectors, server.requests, function)


def user_record(user_id):
    return {"id": user_id, "name": f"user-{user_id}"}


# Text outside ASCII. `server.serve(json=...)` (web.json_response) escapes it (`"Jos\u00e9"`), which
# reads back right whatever charset the client decodes the body with; `utf8_json` sends it as raw
# UTF-8 bytes, as most servers do, and says so in the Content-Type.
NOT_ASCII_NAMES = ("José", "Zoë", "Søren", "Łukasz", "Chloé Müller", "Ñuño", "Ægir")


def not_ascii_record(rng, user_id):
    """A user record whose name and city are outside ASCII."""
    return {
        **user_record(user_id),
        "name": rng.choice(NOT_ASCII_NAMES),
        "city": rng.choice(("Zürich", "Kraków")),
    }


async def cancelled_while_the_server_answers(server, paths, start, name, advice=""):
    """Serve `paths`; `start(urls)` runs the learner's function, and the test cancels it the moment
    the server has its first request, as its caller would. Fail unless it ends cancelled."""
    await server_cancels.cancelled_while_the_server_answers(
        server,
        paths,
        start,
        name,
        reply=lambda request: Reply(json={"path": request.path}),
        moment="while it waited for the server's reply",
        unreached="without sending a request to the server",
        started="its requests",
        advice=advice,
    )


class Rounds:
    """Reply functions for `server.serve` whose answers change from one call of the learner's
    function to the next, as a live service's do: a body carries `"round": n`, the round the test
    is in (`next()` starts the next one)."""

    def __init__(self):
        self.number = 1

    def next(self, server):
        self.number += 1
        server.reset()

    def body(self, body):
        return {**body, "round": self.number}

    def changing(self, reply):
        """`reply` (a Reply), its JSON body (of a status below 400) marked with the round."""
        return lambda request: replace(reply, json=self.body(reply.json)) if reply.status < 400 else reply


def kept_between_calls(function, url, server, found, expected):
    """The plain-words failure of `function`, called a second time, that gave the first call's
    answer `found` for `url` without asking the server."""
    asked = len(server.requests)
    return AssertionError(
        f"{function} was called a second time with the same URLs, and the server's answer for {url} "
        f"had changed to {describe(expected)}: {asked} request(s) reached the server in that call, "
        f"and it gave {describe(found)} for {url}, the first call's answer. Keep nothing from one call "
        "to the next (no cache of bodies in a variable outside the function): every call GETs every "
        "URL afresh."
    )


class NumberedAnswers:
    """Reply functions for `server.serve` that number every answer (`{..., "answer": 3}`), over
    all the paths: a URL asked twice answers differently each time. `given[url]` lists its answers."""

    def __init__(self, server):
        self.server = server
        self.given = {}

    def serve(self, user_id, delay=0.0):
        path = f"/users/{user_id}"

        def reply(request):
            answer = {**user_record(user_id), "answer": sum(map(len, self.given.values())) + 1}
            self.given.setdefault(self.server.url(path), []).append(answer)
            return Reply(json=answer, delay=delay)

        return self.server.serve(path, reply)

    def assert_asked_each_time(self, urls, function):
        """Every entry of `urls` reached the server as a request of its own, repeated URLs too."""
        wanted = Counter(urls)
        asked = {url: len(self.given.get(url, [])) for url in wanted}
        fewer = [url for url in wanted if asked[url] < wanted[url]]
        if fewer:
            url = fewer[0]
            raise AssertionError(
                f"{url} appears {wanted[url]} times in urls, and {function} sent {asked[url]} request(s) "
                f"for it. The docstring asks to GET every URL in `urls`, each time it appears: the server "
                "may answer differently each time, and the caller decides what to ask for. Send one "
                "request per entry of `urls`, repeated ones too (tasks in a list, or gather, not a dict "
                "of tasks keyed by URL)."
            )

    def assert_each_answer_in_its_place(self, result, urls, function):
        """Each URL's places in `result` hold the answers its requests got, each once (two requests
        for one URL may end in either order, so which of its places gets which is not judged)."""
        if not isinstance(result, list) or len(result) != len(urls):
            assert_same(result, [self.given.get(url, ["?"])[0] for url in urls], f"{function}'s result")
            return
        for url in dict.fromkeys(urls):
            placed = [result[n] for n, u in enumerate(urls) if u == url]
            got = self.given.get(url, [])
            if sorted(map(repr, placed)) == sorted(map(repr, got)):
                continue
            if len(got) > 1 and len({repr(p) for p in placed}) < len(placed):
                raise AssertionError(
                    f"{url} appears {len(placed)} times, the server answered it differently each time "
                    f"({', '.join(map(describe, got))}), and {function} put {describe(placed[0])} in each "
                    "of its places: the bodies were kept by URL (a dict keyed by it), so the last answer "
                    "overwrote the others. Keep each request's body in the place of its own entry: "
                    "`asyncio.gather(...)` returns them in the order of the URLs, one per entry."
                )
            assert_same(placed, got, f"{function}'s bodies for the {len(placed)} places of {url}")


def urls_with_two_repeated(rng, answers, count):
    """`count` URLs served by `answers`, then two of them again, each at a random place."""
    urls = [answers.serve(user_id) for user_id in rng.sample(range(100, 1000), count)]
    for again in rng.sample(urls, 2):
        urls.insert(rng.randint(0, len(urls)), again)
    return urls


# -- Task 1 ----------------------------------------------------------------------------------


async def timed_fetch_with_timeout(ex, session, url, seconds):
    """Run the learner's fetch_with_timeout; a timeout error escaping it is explained."""
    started = clock.perf_counter()
    try:
        result = await ex.fetch_with_timeout(session, url, seconds)
    except TimeoutError as error:
        raise AssertionError(
            f"fetch_with_timeout let {type(error).__name__} out after "
            f"{clock.perf_counter() - started:.2f} s. When the time runs out it should return None: "
            "catch `TimeoutError` (asyncio.TimeoutError is the same class; aiohttp's timeout errors "
            "are subclasses of it). `except aiohttp.ClientError` does not catch a total timeout."
        ) from error
    return result, clock.perf_counter() - started


IN_TIME = 0.25  # how long the server takes to answer a reply that arrives in time
FAR_SECONDS = 2.0  # a time limit no quick reply comes near


@pytest.mark.task(1)
async def test_a_reply_that_arrives_in_time_is_returned(ex, rng, server, wake_watch):
    user_id = rng.randrange(100, 1000)
    seconds = round(rng.uniform(0.6, 0.8), 2)
    fix = (
        "Let the time limit do the watching: `session.get(url, timeout=aiohttp.ClientTimeout("
        "total=seconds))`, or `async with asyncio.timeout(seconds):` around the request, and await "
        "the reply; no loop of sleeps."
    )

    # Its own timers are judged by what they do as the reply comes (kata.testing.own_timers), all
    # but the limit of `seconds` it was given: another limit of its own gives up on a reply that
    # the limit it was given lets in, a poll (a sleep between looks) never sees the reply come; a
    # timer that only logs or warns is fine.
    watch = ResponseWatch()
    async with watch.session() as session:
        try:
            async with wake_watch(ex) as wakes:
                with OwnTimersProbe(wakes, "fetch_with_timeout", server, given_limit=seconds) as timers:
                    held = timers.reply_after(IN_TIME, Reply(json=user_record(user_id)))
                    url = server.serve(f"/users/{user_id}", held)
                    task = asyncio.create_task(timed_fetch_with_timeout(ex, session, url, seconds))
                    result, elapsed = await timers.awaited(
                        task, fix=fix, complete=lambda found: found[0] == user_record(user_id)
                    )
        finally:
            watch.release_all()

    if result is None:
        if elapsed >= seconds - EARLY_WAKE:  # it gave up at the limit: late on a busy machine?
            margins.cut_off("20 fetch_with_timeout: a quick reply arrives in time")
        raise AssertionError(
            f"the server answered in {IN_TIME} s, well within the {seconds} s allowed, but "
            "fetch_with_timeout returned None: it should give up only when the time runs out."
        )
    assert_same(result, user_record(user_id), "fetch_with_timeout's result")
    assert_used_the_session(server, watch, "fetch_with_timeout")
    request = server.requests[0]
    if request.end is not None:
        # The server takes IN_TIME s: meanwhile nothing changes that code awaiting the reply (with
        # its time limit set) needs to look at. A loop that checks a task every few ms does.
        since = request.start + QUIET_FROM
        until = timers.watched_until(request.end - QUIET_BEFORE, since)
        assert_slept_between(
            wakes,
            since,
            until,
            {task: "fetch_with_timeout"},
            "fetch_with_timeout",
            f"while the server prepared its reply (the {until - since:.2f} s this test watched)",
            ("whether the reply is in or the time is up", "one of them happens"),
            fix,
            probe=timers,  # judged by what they do, above (its given limit is pending there)
        )


@pytest.mark.task(1)
async def test_fetch_with_timeout_reads_text_outside_ascii_as_the_server_sent_it(ex, rng, server):
    user_id = rng.randrange(100, 1000)
    record = not_ascii_record(rng, user_id)
    url = server.serve(f"/users/{user_id}", utf8_json(record))

    async with aiohttp.ClientSession() as session:
        result, _ = await timed_fetch_with_timeout(ex, session, url, FAR_SECONDS)

    assert_text_as_sent(result, record, "fetch_with_timeout's result")


@pytest.mark.task(1)
async def test_a_slow_reply_is_given_up_after_about_the_timeout(ex, rng, server):
    url = server.serve("/slow", json={"late": True}, delay=SLOW)
    seconds = round(rng.uniform(0.15, 0.25), 2)

    async with aiohttp.ClientSession() as session:
        result, elapsed = await timed_fetch_with_timeout(ex, session, url, seconds)

    if result is not None:
        raise AssertionError(
            f"the server takes {SLOW:.0f} s to answer and fetch_with_timeout was allowed {seconds} s, "
            f"but it waited {elapsed:.2f} s and returned {describe(result)}. Give the request a time "
            "limit: `session.get(url, timeout=aiohttp.ClientTimeout(total=seconds))`, and return None "
            "when it raises TimeoutError."
        )
    if margins.over(elapsed, seconds + DELAY, "20 fetch_with_timeout: gives up < seconds + DELAY"):
        raise AssertionError(
            f"fetch_with_timeout returned None, but only after {elapsed:.2f} s; the limit was {seconds} s. "
            "Give up when the time runs out, not when the server finally answers."
        )
    if margins.under(elapsed, seconds - EARLY_WAKE, "20 fetch_with_timeout: waits >= seconds - EARLY_WAKE"):
        raise AssertionError(
            f"fetch_with_timeout gave up after {elapsed:.2f} s, before its {seconds} s were up: "
            "wait the whole `seconds` before giving up."
        )


# A reply this much slower than the time limit: past it, however little. Correct code's timer is
# due that long before the reply can come, and the loop fires it first under any load; only a
# process kept off its core for that long sees both at once (a failure on time).
JUST_AFTER = 0.1
PASS_SECONDS_ON = (
    "Pass `seconds` on as it is (`aiohttp.ClientTimeout(total=seconds)`, `asyncio.timeout(seconds)`), "
    "with no time added to it (`seconds + 0.05`, `seconds * 1.5`)."
)


@pytest.mark.task(1)
async def test_a_reply_just_slower_than_the_time_limit_gives_none(ex, rng, server, wake_watch):
    seconds = round(rng.uniform(0.2, 0.3), 2)
    late = round(seconds + JUST_AFTER, 2)
    url = server.serve("/late", json={"late": True}, delay=late)

    async with wake_watch(ex) as wakes, aiohttp.ClientSession() as session:
        result, elapsed = await timed_fetch_with_timeout(ex, session, url, seconds)

    if result is not None:
        check = "20 fetch_with_timeout: a reply just past the limit gives None"
        margins.over(elapsed, seconds + JUST_AFTER / 2, check)
        raise AssertionError(
            f"the server answered after {late:.2f} s, {JUST_AFTER:.2f} s past the limit of {seconds} s, "
            f"and fetch_with_timeout returned {describe(result)} after {elapsed:.2f} s: a reply slower "
            f"than the limit, however little, gives None. {PASS_SECONDS_ON}"
        )
    check = "20 fetch_with_timeout: no timer of its own runs out once the limit is up"
    assert_no_time_added(wakes, seconds, "fetch_with_timeout", PASS_SECONDS_ON, check)


@pytest.mark.task(1)
async def test_giving_up_stops_the_request_on_the_server(ex, rng, server, leftovers):
    url = server.serve("/slow", json={"late": True}, delay=SLOW)
    seconds = round(rng.uniform(0.15, 0.25), 2)

    async with aiohttp.ClientSession() as session:
        before = leftovers.mark()
        result, elapsed = await timed_fetch_with_timeout(ex, session, url, seconds)
        left = leftovers.at_return(before)
        if left:
            await leftovers.stop(before)
        await server.every_request_handled(within=NOTICE_WITHIN)

    if not server.requests:
        if result is None and elapsed >= seconds - EARLY_WAKE:
            # Its limit ran out before the request left (a busy machine holding it back?).
            margins.cut_off("20 fetch_with_timeout: its request reaches the server within the limit")
            raise AssertionError(
                f"fetch_with_timeout returned None after {elapsed:.2f} s, when its {seconds} s were up, "
                "and its request never reached the server: send it at once, inside the time limit."
            )
        raise AssertionError("fetch_with_timeout never sent its request to the server.")
    outcome = server.requests[0].outcome
    if left:
        # Learner trial AA: the request in a task, cancelled when the time ran out, and None returned
        # at once; the cancel only reaches the task a step later, the request stopping after the return.
        stopping = [f"{task.name}()" for task in left if task.cancelling]
        names = ", ".join(stopping or [f"{task.name}()" for task in left])
        state = "cancelled but not stopped yet" if stopping else "never cancelled"
        got = "None" if result is None else describe(result)
        raise AssertionError(
            f"fetch_with_timeout returned {got} after {elapsed:.2f} s while its task {names} "
            f"was still running ({state}): the request it gave up on went on after it returned. "
            "`task.cancel()` only asks a task to stop; giving up means the request has stopped when "
            "fetch_with_timeout returns. Leave the `async with session.get(...)` block when the time runs "
            "out (a ClientTimeout, `asyncio.timeout` or `asyncio.wait_for` stops the request before it "
            "returns), or, with a task of your own, wait until it has ended after cancelling it."
        )
    if result is None and outcome == "running":
        raise AssertionError(
            f"fetch_with_timeout returned None after {elapsed:.2f} s, but {NOTICE_WITHIN} s later the "
            "request was still going on: giving up must stop it, or it keeps a connection busy for "
            "nothing. Leave the `async with session.get(...)` block when the time runs out (the "
            "ClientTimeout, asyncio.timeout or asyncio.wait_for does that); don't leave a task behind."
        )
    if outcome != "cancelled":
        raise AssertionError(
            f"the request should have been stopped after about {seconds} s, so that the server sees "
            f"the connection close; instead it ran to the end ({SLOW:.0f} s) and fetch_with_timeout "
            f"returned {describe(result)}. Give the request a time limit that covers the whole reply."
        )


@pytest.mark.task(1)
async def test_the_time_limit_covers_the_body_too(ex, rng, server):
    # The headers come at once; the body then trickles in, a piece every 0.1 s.
    numbers = [rng.randrange(1000) for _ in range(20)]
    body = json.dumps({"numbers": numbers}).encode()
    pieces = [body[i : i + 8] for i in range(0, len(body), 8)]
    trickle = 0.1
    url = server.serve("/trickle", chunks=pieces, chunk_delay=trickle, headers=JSON_HEADERS)
    seconds = round(rng.uniform(0.25, 0.35), 2)

    async with aiohttp.ClientSession() as session:
        result, elapsed = await timed_fetch_with_timeout(ex, session, url, seconds)

    if result is not None:
        raise AssertionError(
            f"the server sent its headers at once, then the body a piece at a time over "
            f"{len(pieces) * trickle:.1f} s; fetch_with_timeout was allowed {seconds} s but returned the "
            f"body after {elapsed:.2f} s. The limit must cover the whole reply: "
            "`ClientTimeout(total=...)` does; `sock_read` only limits the wait for each single piece, "
            "and a timeout around `session.get(url)` alone stops counting once the headers are in "
            "(`await response.json()` must be inside it too)."
        )
    if margins.over(
        elapsed, seconds + DELAY, "20 fetch_with_timeout: a trickling body gives up < seconds + DELAY"
    ):
        raise AssertionError(
            f"fetch_with_timeout returned None after {elapsed:.2f} s; the limit was {seconds} s. "
            "Give up when the time runs out."
        )


@pytest.mark.task(1)
async def test_the_headers_and_the_body_share_one_time_limit(ex, rng, server):
    # The headers come after `half` s, the body over `half` s more: each half fits in the limit with
    # 0.17 s or more to spare, the whole reply ends DELAY past it (the file's margin for a late
    # give-up), so a correct answer has given up before the body is all in.
    seconds = round(rng.uniform(0.55, 0.65), 2)
    half = (seconds + DELAY) / 2
    user_id = rng.randrange(100, 1000)
    url = server.serve(
        f"/users/{user_id}", replace(Reply.slow_body(user_record(user_id), over=half), delay=half)
    )

    async with aiohttp.ClientSession() as session:
        result, elapsed = await timed_fetch_with_timeout(ex, session, url, seconds)

    if result is not None:
        # A correct answer given up on very late (a loaded machine) gets a second run.
        margins.over(
            elapsed, seconds + DELAY, "20 fetch_with_timeout: the whole reply gives up < seconds + DELAY"
        )
        raise AssertionError(
            f"the server sent its headers after {half:.2f} s and the rest of the body {half:.2f} s "
            f"later: the whole reply took {elapsed:.2f} s, and fetch_with_timeout, allowed {seconds} s, "
            f"returned {describe(result)}. Each half arrived within {seconds} s, but the limit is for "
            "the whole reply: a time limit for the headers (`asyncio.wait_for(session.get(url), "
            "seconds)`) and then another for the body gives it up to twice as long. Set one limit "
            "around both: `session.get(url, timeout=aiohttp.ClientTimeout(total=seconds))`, or "
            "`async with asyncio.timeout(seconds):` around the request and `await response.json()`."
        )
    if margins.over(
        elapsed, seconds + DELAY, "20 fetch_with_timeout: a slow half gives up < seconds + DELAY"
    ):
        raise AssertionError(
            f"fetch_with_timeout returned None after {elapsed:.2f} s; the limit was {seconds} s. "
            "Give up when the time runs out."
        )


@pytest.fixture
def refused_url():
    """A URL on a loopback port that is bound but not listening: connecting to it is refused."""
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{bound.getsockname()[1]}/users/7"


@pytest.fixture
async def broken_url():
    """`await broken_url(cut)`: the URL of a raw server on loopback that reads the request, then
    closes the connection: at once (cut="nothing", ServerDisconnectedError) or after the headers and
    the start of a body they promise to be longer (cut="body", ClientPayloadError)."""
    servers = []

    async def make(cut):
        async def handle(reader, writer):
            try:
                await reader.readuntil(b"\r\n\r\n")
                if cut == "body":
                    writer.write(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        b'Content-Length: 1000\r\n\r\n{"id": 7, "name": "us'
                    )
                    await writer.drain()
            except (OSError, asyncio.IncompleteReadError):
                pass
            finally:
                writer.close()

        served = await asyncio.start_server(handle, "127.0.0.1", 0)
        servers.append(served)
        return f"http://127.0.0.1:{served.sockets[0].getsockname()[1]}/users/7"

    yield make
    for served in servers:
        served.close()
        await served.wait_closed()


NOT_TIMEOUTS = ["reply_not_json", "connection_refused", "server_disconnected", "body_cut_short"]


@pytest.mark.task(1)
@pytest.mark.parametrize("failure", NOT_TIMEOUTS)
async def test_an_error_that_is_not_a_timeout_reaches_the_caller(
    ex, rng, server, refused_url, broken_url, failure
):
    raised = (aiohttp.ClientError,)
    if failure == "reply_not_json":
        user_id = rng.randrange(100, 1000)
        url = server.serve(f"/users/{user_id}", text=f"user {user_id}: no JSON here")
        what = "the server answered at once, with a plain-text page that is not JSON"
        raised = (aiohttp.ClientError, ValueError)  # ContentTypeError, or json.loads' error
    elif failure == "connection_refused":
        url = refused_url
        what = "the server refused the connection"
        raised = (aiohttp.ClientError, OSError)  # ClientConnectorError
    elif failure == "server_disconnected":
        url = await broken_url("nothing")
        what = "the server closed the connection at once, without answering"  # ServerDisconnectedError
    else:
        url = await broken_url("body")
        what = "the server sent the headers and a few bytes of the body, then closed the connection"
    seconds = round(rng.uniform(0.4, 0.6), 2)

    async with aiohttp.ClientSession() as session:
        with stopwatch() as run:
            try:
                result = await ex.fetch_with_timeout(session, url, seconds)
            except raised:  # the error reached the caller, as it should
                return

    # Correct code raises at once. A None that came only once the limit ran out is what a busy
    # machine can make of correct code (CI: 0.47 s of 0.44 s): a failure on time, run again.
    ran_out = margins.over(
        run.elapsed, seconds - 0.05, "20 fetch_with_timeout: a quick error ends before its limit"
    )
    within = (
        f"only after {run.elapsed:.2f} s, its whole"
        if ran_out
        else f"after {run.elapsed:.2f} s, well within its"
    )
    raise AssertionError(
        f"{what}, and fetch_with_timeout returned {describe(result)} {within} {seconds} s. "
        "None means only one thing: the time ran out. Any other error is not a "
        "timeout (a dropped connection or a body cut short neither: the caller may want to try again "
        "at once): let it reach the caller. Catch `TimeoutError` alone, not `Exception`, "
        "`aiohttp.ClientError`, `OSError` or aiohttp's errors for a connection lost."
    )


@pytest.mark.task(1)
async def test_a_cancel_from_the_caller_is_not_a_timeout(ex, rng, server):
    seconds = round(rng.uniform(1.5, 2.0), 2)

    async with aiohttp.ClientSession() as session:
        await cancelled_while_the_server_answers(
            server,
            [f"/users/{rng.randrange(100, 1000)}"],
            lambda urls: ex.fetch_with_timeout(session, urls[0], seconds),
            "fetch_with_timeout",
            advice=f"Its limit was {seconds} s, far from up, and only that limit running out means None: "
            "catch `TimeoutError` alone (the ClientTimeout raises it, and `asyncio.timeout` turns its own "
            "cancellation into it for you).",
        )


@pytest.mark.task(1)
async def test_a_second_call_asks_the_server_afresh(ex, rng, server):
    user_id = rng.randrange(100, 1000)
    rounds = Rounds()
    url = server.serve(f"/users/{user_id}", rounds.changing(Reply(json=user_record(user_id))))

    async with aiohttp.ClientSession() as session:
        for round_number in (1, 2):
            if round_number == 2:
                rounds.next(server)
            result, _ = await timed_fetch_with_timeout(ex, session, url, FAR_SECONDS)
            expected = rounds.body(user_record(user_id))
            if round_number == 2 and result == {**user_record(user_id), "round": 1}:
                raise kept_between_calls("fetch_with_timeout", url, server, result, expected)
            assert_same(result, expected, f"call {round_number} of fetch_with_timeout")


# -- Task 2 ----------------------------------------------------------------------------------


def mixed_statuses(rng, count):
    """`count` (at least 4) statuses, shuffled: 200 and 399 (successes), 400 (a client error), a
    server error, and any others."""
    statuses = [200, LAST_SUCCESS, FIRST_ERROR, rng.choice(SERVER_ERRORS)]
    statuses += [rng.choice((200, *CLIENT_ERRORS, *SERVER_ERRORS)) for _ in range(count - len(statuses))]
    rng.shuffle(statuses)
    return statuses


# URLs as a caller may write them, which aiohttp sends in a form of its own (and gives back as
# `response.url`): by what each does, a function of the server and a path giving the path served
# and the URL as given. fetch_statuses keys its dict by the URLs as given: a learner trial's keyed
# it by `str(response.url)`.
WRITTEN_UNLIKE_AIOHTTP = {
    "a space in the path": lambda server, path: (f"{path} profile", server.url(path) + " profile"),
    "a space in the query": lambda server, path: (path, server.url(path) + "?fields=name tags"),
    "an upper-case scheme": lambda server, path: (path, "HTTP" + server.url(path).removeprefix("http")),
    "a fragment": lambda server, path: (path, server.url(path) + "#profile"),
}


def as_aiohttp_sends_it(url):
    """`url` as aiohttp sends it, and gives it back as `response.url` (without its fragment)."""
    return str(yarl.URL(url).with_fragment(None))


def serve_mixed(server, rng, count, delay, large_errors=False, wrap=None, written_unlike_aiohttp=False):
    """Serve `count` URLs with mixed statuses; return the URLs, the dict fetch_statuses should give
    and each URL's status.

    With `large_errors`, every error page is too large for aiohttp to free unread; `wrap`, when given,
    makes each Reply into the reply function served instead; with `written_unlike_aiohttp`, the
    first URLs are written each in a way of WRITTEN_UNLIKE_AIOHTTP (the statuses are in random order).
    """
    user_ids = rng.sample(range(100, 1000), count)
    written = list(WRITTEN_UNLIKE_AIOHTTP.values()) if written_unlike_aiohttp else []
    urls, expected, statuses = [], {}, {}
    for n, (user_id, status) in enumerate(zip(user_ids, mixed_statuses(rng, count), strict=True)):
        body = user_record(user_id) if status < 400 else {"error": f"the server said {status}"}
        if large_errors and status >= 400:
            reply = replace(large_error_reply(status), delay=delay)
        else:
            reply = Reply(json=body, status=status, delay=delay)
        path, url = f"/users/{user_id}", None
        if n < len(written):
            path, url = written[n](server, path)
        served = server.serve(path, wrap(reply) if wrap else reply)
        url = url or served
        urls.append(url)
        expected[url] = body if status < 400 else status
        statuses[url] = status
    return urls, expected, statuses


async def call_fetch_statuses(ex, session, urls):
    """Run the learner's fetch_statuses; an error status escaping it is explained."""
    try:
        return await ex.fetch_statuses(session, urls)
    except Exception as error:
        found = [e for e in leaves(error) if isinstance(e, aiohttp.ClientResponseError)]
        if not found:
            raise
        raise AssertionError(
            f"fetch_statuses raised ClientResponseError (status {found[0].status} for "
            f"{found[0].request_info.url}). An error status belongs in the result, as its status code, "
            "not in an exception that throws the other replies away: check `response.status` (or "
            "catch the error raise_for_status raises) inside the code that fetches each URL."
        ) from error


def assert_sorted_by_status(result, expected, statuses):
    """Fail unless fetch_statuses' result is `expected`; a status put on the wrong side of 400 is
    explained, and a wrong dict is shown entry by entry (only the entries that differ)."""
    if type(result) is dict:
        keys = {str(key): key for key in result}
        for url in statuses:
            sent = as_aiohttp_sends_it(url)
            if url not in result and sent != url and sent in keys:
                raise AssertionError(
                    f"fetch_statuses was given the URL {url!r}, and its result has no entry for it, but one "
                    f"for {keys[sent]!r}: that URL as aiohttp sent it (`response.url`). aiohttp rewrites "
                    "the URL it is given (it encodes a space, writes the scheme in lower case, drops a "
                    "fragment), and after a redirect `response.url` is where the redirect ended. The "
                    "docstring asks for one entry per URL in `urls`: key each entry by the URL you were "
                    "given, as it was written (`dict(zip(urls, results))`), not by anything the reply says."
                )
        for url, status in statuses.items():
            found = result.get(url)
            if url not in result or same(found, expected[url]):
                continue
            if status >= 400 and not isinstance(found, int):
                raise AssertionError(
                    f"{url} answered with status {status}, an error status, but fetch_statuses put "
                    f"{describe(found)} in the result as if it were data; it should map to {status}. "
                    "aiohttp raises nothing for an error status by itself: check "
                    f"`response.status >= 400` (400 is an error status too) and store {status}."
                )
            if status < 400 and isinstance(found, int):
                raise AssertionError(
                    f"{url} answered with status {status}, below 400, but fetch_statuses stored "
                    f"{describe(found)} instead of its body {describe(expected[url])}. Only a status "
                    "of 400 or more is an error: `if response.status >= 400`, nothing narrower."
                )
    assert_same_parts(result, expected, "fetch_statuses' result")


@pytest.mark.task(2)
async def test_each_url_maps_to_its_body_or_its_error_status(ex, rng, server, wake_watch):
    # Its own timers are judged by what they do as the replies come (kata.testing.own_timers): a
    # time limit the docstring does not give gives up on a slow server, a poll never sees the end.
    watch = ResponseWatch()
    async with wake_watch(ex) as wakes, watch.session() as session:
        with OwnTimersProbe(wakes, "fetch_statuses", server) as timers:
            held = partial(timers.reply_after, 0.02)
            urls, expected, statuses = serve_mixed(
                server, rng, 6, delay=0.0, wrap=held, written_unlike_aiohttp=True
            )
            try:
                task = asyncio.create_task(call_fetch_statuses(ex, session, urls))
                result = await timers.awaited(task, expected, fix=AWAIT_THE_REQUESTS)
            finally:
                watch.release_all()

    assert_sorted_by_status(result, expected, statuses)
    assert_used_the_session(server, watch, "fetch_statuses")


@pytest.mark.task(2)
async def test_fetch_statuses_reads_text_outside_ascii_as_the_server_sent_it(ex, rng, server):
    records = [not_ascii_record(rng, user_id) for user_id in rng.sample(range(100, 1000), 3)]
    urls = [server.serve(f"/users/{record['id']}", utf8_json(record)) for record in records]

    async with aiohttp.ClientSession() as session:
        result = await call_fetch_statuses(ex, session, urls)

    assert_text_as_sent(result, dict(zip(urls, records, strict=True)), "fetch_statuses' result")


@pytest.mark.task(2)
async def test_every_url_is_fetched_at_the_same_time(ex, rng, server):
    urls, _, _ = serve_mixed(server, rng, 5, delay=DELAY)

    async with aiohttp.ClientSession() as session:
        with stopwatch() as run:
            await call_fetch_statuses(ex, session, urls)

    assert_ran_together(server, run.elapsed, expected_calls=len(urls))


# The tests of two URLs: each reply takes this long; sent at once, both are in by then.
TWO_URLS = 0.15


@pytest.mark.task(2)
async def test_two_urls_are_fetched_at_the_same_time(ex, rng, server):
    # The fewest requests that can be in flight together: code that GETs a few URLs one after
    # another (and gathers them only for more) is caught here, whatever its threshold (learner trial
    # AA: two URLs or fewer one after another passed every test, whose URLs at once were 5 or more).
    # One reply is data, the other an error status.
    first, second = rng.sample(range(100, 1000), 2)
    status = rng.choice((*CLIENT_ERRORS, *SERVER_ERRORS))
    error_body = {"error": f"the server said {status}"}
    expected = {
        server.serve(f"/users/{first}", Reply(json=user_record(first), delay=TWO_URLS)): user_record(first),
        server.serve(f"/users/{second}", Reply(json=error_body, status=status, delay=TWO_URLS)): status,
    }
    urls = rng.sample(list(expected), 2)

    async with aiohttp.ClientSession() as session:
        with stopwatch() as run:
            result = await call_fetch_statuses(ex, session, urls)

    assert_same_parts(result, expected, "fetch_statuses' result")
    assert_ran_together(server, run.elapsed, expected_calls=2)


@pytest.mark.stall_limit(MANY_CALLS_STALL_LIMIT)  # its calls are made in one step of the loop
@pytest.mark.task(2)
async def test_a_list_of_any_size_has_all_its_urls_fetched_at_the_same_time(ex, rng, server):
    # Every size from two up, side by side, each list's URLs under a path of its own: code can choose
    # to fetch them one after another for sizes no other test draws (a red team's, in 02).
    lists = serve_lists_of_every_size(server, rng, lambda uid: Reply(json=user_record(uid)))

    async with aiohttp.ClientSession() as session:
        results = await asyncio.gather(
            *(call_fetch_statuses(ex, session, list(urls)) for urls in lists.values())
        )

    requests = requests_of_each_size(server)
    fix = "Gather a request for every URL, whatever their number."
    assert_every_size_ran_together("fetch_statuses", requests, "URLs", fix=fix, calls="requests")
    for (n, urls), result in zip(lists.items(), results, strict=True):
        expected = {url: user_record(uid) for url, uid in urls.items()}
        assert_same_parts(result, expected, f"fetch_statuses' result for {n} URLs")


# More URLs than any cap a polite client might pick (10, 16, 20, 25, 50, 64, 100), through a
# session of the test's own that allows every one of them a connection at once (aiohttp's default
# connector stops at 100). Fewer than the test server's listen backlog (128): past it, a connection
# waits a second for the kernel to retry it, and correct code is held back too (so not
# kata.testing.caps' 129-160). Their replies wait until every request has arrived, however slowly a
# busy machine sends them (at most HELD_AT_MOST s: code that holds some back never sends them all,
# and then they are let go).
MANY_URLS = (101, 120)
HELD_AT_MOST = 1.0


@pytest.mark.stall_limit(MANY_CALLS_STALL_LIMIT)  # its calls are made in one step of the loop
@pytest.mark.task(2)
async def test_many_urls_are_all_in_flight_at_once(ex, rng, server):
    count = rng.randint(*MANY_URLS)
    urls, _, _ = serve_mixed(
        server, rng, count, delay=0.0, wrap=hold_replies_until_requests(count, at_most=HELD_AT_MOST)
    )

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=count)) as session:
        await call_fetch_statuses(ex, session, urls)

    if margins.short_of(server.peak, len(urls), "20 fetch_statuses: many URLs all in flight at once"):
        raise AssertionError(
            f"fetch_statuses was given {len(urls)} URLs, and a session whose connector allows {count} "
            f"connections at once, and at most {server.peak} of their requests were in flight at once. The "
            "docstring asks for every URL at the same time, however many there are: a limit of your own (a "
            "semaphore, batches, a pool of workers) holds the others back. Gather one request per URL, all "
            "at once, and let the session you are given decide how many connections it opens.\nobserved:\n"
            f"{draw_timeline(server.requests, server.name)}"
        )


@pytest.mark.task(2)
async def test_every_reply_is_released_an_error_reply_too(ex, rng, server):
    # Each error page is too large to arrive unread: only releasing the reply frees its connection.
    urls, expected, statuses = serve_mixed(server, rng, 4, delay=0.0, large_errors=True)
    watch = ResponseWatch()

    async with watch.session() as session:
        try:
            result = await call_fetch_statuses(ex, session, urls)
            assert_used_the_session(server, watch, "fetch_statuses")
            assert_released(watch, "fetch_statuses")
        finally:
            watch.release_all()

    assert_sorted_by_status(result, expected, statuses)


@pytest.mark.task(2)
async def test_no_urls_means_an_empty_dict(ex):
    async with aiohttp.ClientSession() as session:
        result = await call_fetch_statuses(ex, session, [])

    assert_same(result, {}, "fetch_statuses(session, [])")


@pytest.mark.task(2)
async def test_a_cancelled_fetch_statuses_ends_cancelled(ex, rng, server):
    paths = [f"/users/{uid}" for uid in rng.sample(range(100, 1000), 3)]

    async with aiohttp.ClientSession() as session:
        await cancelled_while_the_server_answers(
            server, paths, lambda urls: ex.fetch_statuses(session, urls), "fetch_statuses"
        )


@pytest.mark.task(2)
async def test_a_second_cancel_while_its_requests_stop_leaves_none_running_either(ex, rng, server):
    # A caller may cancel twice (kata.testing.second_cancel): a red team's fetch_statuses waited for
    # its cancelled requests with `await asyncio.wait(tasks)`, which the second cancel cut short.
    await assert_no_request_left_running_after_a_second_cancel(
        server,
        "fetch_statuses",
        lambda session, urls: ex.fetch_statuses(session, urls),
        [f"/users/{uid}" for uid in rng.sample(range(100, 1000), 3)],
        lambda request: Reply(json={"path": request.path}, delay=SLOW),
        slow=SLOW,
        within=NOTICE_WITHIN,
    )


@pytest.mark.task(2)
async def test_a_second_call_with_the_same_urls_asks_the_server_afresh(ex, rng, server):
    rounds = Rounds()
    # Successes alone (which side of 400 a status falls on is other tests' business).
    user_ids = rng.sample(range(100, 1000), 4)
    urls = [server.serve(f"/users/{uid}", rounds.changing(Reply(json=user_record(uid)))) for uid in user_ids]

    async with aiohttp.ClientSession() as session:
        for round_number in (1, 2):
            if round_number == 2:
                rounds.next(server)
            result = await call_fetch_statuses(ex, session, urls)
            wanted = {url: rounds.body(user_record(uid)) for url, uid in zip(urls, user_ids, strict=True)}
            if round_number == 2 and type(result) is dict:
                stale = [
                    url
                    for url, uid in zip(urls, user_ids, strict=True)
                    if result.get(url) == {**user_record(uid), "round": 1}
                ]
                if stale:
                    url = stale[0]
                    raise kept_between_calls("fetch_statuses", url, server, result[url], wanted[url])
            assert_same_parts(result, wanted, f"call {round_number} of fetch_statuses")


@pytest.mark.task(2)
async def test_a_url_listed_twice_leaves_no_request_running_when_it_returns(ex, rng, server, leftovers):
    # The result is keyed by URL, so one request for a URL listed twice would do; but tasks kept in a
    # dict keyed by URL start two requests and keep one: the other runs on after the return.
    user_ids = rng.sample(range(100, 1000), 4)
    repeated = rng.choice(user_ids[:-1])
    user_ids.insert(rng.randint(user_ids.index(repeated) + 1, len(user_ids)), repeated)
    # The first request for the repeated URL is answered last.
    numbers = iter(range(1, 3))

    def numbered(request):
        number = next(numbers, 0)
        return Reply(json={**user_record(repeated), "answer": number}, delay=DELAY if number == 1 else 0.0)

    replies = {uid: Reply(json=user_record(uid), delay=0.05) for uid in user_ids if uid != repeated}
    urls = [server.serve(f"/users/{uid}", replies.get(uid, numbered)) for uid in user_ids]
    url = urls[user_ids.index(repeated)]

    async with aiohttp.ClientSession() as session:
        before = leftovers.mark()
        result = await call_fetch_statuses(ex, session, urls)
        left = leftovers.at_return(before)
        if left:
            await leftovers.stop(before)
            names = ", ".join(f"{task.name}()" for task in left)
            were = "was" if len(left) == 1 else "were"
            raise AssertionError(
                f"fetch_statuses returned while {len(left)} of its tasks {were} still running: {names}. "
                f"urls was {urls}: {url} is listed twice, and every request fetch_statuses sends must have "
                "ended before it returns. A dict of tasks keyed by URL keeps one task per URL and loses the "
                "other, which runs on: keep the tasks in a list, one for each place in urls "
                "(`asyncio.gather(*(body_or_status(url) for url in urls))`), and build the dict from their "
                "results (one request per different URL is fine too: the dict has one entry per URL)."
            )

    if type(result) is dict and type(result.get(url)) is dict:
        # Either of its two bodies will do (the 'answer' field tells them apart).
        result = {**result, url: {k: v for k, v in result[url].items() if k != "answer"}}
    assert_same_parts(
        result, {u: user_record(uid) for u, uid in zip(urls, user_ids, strict=True)}, "fetch_statuses' result"
    )


# -- Task 3 ----------------------------------------------------------------------------------


@pytest.mark.task(3)
async def test_results_come_back_in_the_order_of_the_urls(ex, rng, server, wake_watch):
    user_ids = rng.sample(range(100, 1000), 5)
    expected = [user_record(uid) for uid in user_ids]
    limit = rng.randrange(2, 4)
    # As above, its own timers judged by what they do as the replies come.
    async with wake_watch(ex) as wakes:
        with OwnTimersProbe(wakes, "fetch_all_limited", server) as timers:
            # Later URLs answer sooner, so finishing order is not the asking order.
            later_sooner = [0.03 * (len(user_ids) - i) for i in range(len(user_ids))]
            urls = [
                server.serve(f"/users/{uid}", timers.reply_after(delay, Reply(json=record)))
                for uid, record, delay in zip(user_ids, expected, later_sooner, strict=True)
            ]
            task = asyncio.create_task(ex.fetch_all_limited(urls, limit))
            result = await timers.awaited(task, expected, fix=AWAIT_THE_REQUESTS)

    assert_same(result, [user_record(uid) for uid in user_ids], "fetch_all_limited's result")


@pytest.mark.task(3)
async def test_fetch_all_limited_reads_text_outside_ascii_as_the_server_sent_it(ex, rng, server):
    records = [not_ascii_record(rng, user_id) for user_id in rng.sample(range(100, 1000), 3)]
    urls = [server.serve(f"/users/{record['id']}", utf8_json(record)) for record in records]

    result = await ex.fetch_all_limited(urls, 2)

    assert_text_as_sent(result, records, "fetch_all_limited's result")


class TwoHosts:
    """Two loopback servers (two ports: two hosts to aiohttp's connector), seen as one service:
    `calls` are both servers' requests, `peak` the most in flight over both at once."""

    name = "the two servers"

    def __init__(self, first, second):
        self.servers = (first, second)

    @property
    def calls(self):
        return sorted((r for s in self.servers for r in s.requests), key=lambda r: r.start)

    @property
    def peak(self):
        # At a tie an end comes before a start: a connection handed on is not two at once.
        edges = sorted(
            [(r.start, 1) for r in self.calls] + [(r.end, -1) for r in self.calls if r.end is not None]
        )
        peak = in_flight = 0
        for _, step in edges:
            in_flight += step
            peak = max(peak, in_flight)
        return peak


# How long the first replies wait for one request more than the limit allows.
ONE_MORE_AT_MOST = 0.4


@pytest.mark.task(3)
async def test_exactly_limit_requests_are_in_flight_at_once(ex, rng, server, sessions_opened):
    limit = rng.randrange(2, 5)
    user_ids = rng.sample(range(100, 1000), 2 * limit + rng.randrange(1, limit + 1))
    # Half the URLs on each of two hosts, each with at least `limit` of them: a limit per host
    # lets `limit` run on each, twice as many as the session may have. The first replies wait
    # until `limit + 1` requests have arrived (at most ONE_MORE_AT_MOST s): code that keeps to the
    # limit never sends that many, and the wait ends once; code that does not is seen with more
    # than `limit` in flight, however far apart a busy machine sends its requests.
    hold = hold_replies_until_requests(limit + 1, at_most=ONE_MORE_AT_MOST)
    async with LoopbackServer("the other server") as other:
        hosts = TwoHosts(server, other)
        urls = [
            hosts.servers[n % 2].serve(f"/users/{uid}", hold(Reply(json=user_record(uid), delay=0.1)))
            for n, uid in enumerate(user_ids)
        ]

        await ex.fetch_all_limited(urls, limit)

    try:
        assert_peak_in_flight(hosts, limit, expected_calls=len(urls))
    except AssertionError as error:
        if hosts.peak > limit and max(server.peak, other.peak) <= limit:
            error.add_note(
                f"The URLs are on two hosts, and each host had at most {limit} requests at once, but "
                f"together they had {hosts.peak}: the limit was counted per host "
                "(`TCPConnector(limit_per_host=limit)`?), and its default total is 100. The session may "
                f"have {limit} connections open in all: `aiohttp.TCPConnector(limit=limit)`."
            )
        elif hosts.peak > limit:
            error.add_note(
                f"Start every request at once, through ONE session whose connector opens at most {limit} "
                "connections: `aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=limit))`. "
                "The default connector allows 100."
            )
        raise
    # Counted in the learner's own process in judge mode: it can add a failure, never a pass.
    opened = sessions_opened[0]
    if opened != 1:
        raise AssertionError(
            f"fetch_all_limited opened {opened} ClientSessions for {len(urls)} URLs; expected ONE. "
            "Sessions that share a connector keep to its limit, but each is a client of its own (its "
            "cookies, headers, timeouts), to be made and closed every time: open one with "
            "`async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=limit)) as session:` "
            "and send every request through it."
        )


@pytest.mark.task(3)
async def test_two_urls_are_in_flight_at_once_under_a_limit_of_two_or_more(ex, rng, server):
    # The fewest requests that can be in flight together: code that fetches a few URLs one after
    # another (and starts them all at once only for more) is caught here, whatever its threshold.
    limit = rng.randrange(2, 5)
    user_ids = rng.sample(range(100, 1000), 2)
    urls = [server.serve(f"/users/{uid}", Reply(json=user_record(uid), delay=TWO_URLS)) for uid in user_ids]

    result = await ex.fetch_all_limited(urls, limit)

    assert_same(result, [user_record(uid) for uid in user_ids], f"fetch_all_limited(<2 URLs>, {limit})")
    # The peak alone: a pause after the requests is test_fetch_all_limited_returns_as_soon_as_its_last_
    # reply_is_in's business.
    if margins.short_of(server.peak, 2, "20 fetch_all_limited: two URLs under the limit at once"):
        raise AssertionError(
            f"fetch_all_limited(<2 URLs>, {limit}) sent its 2 requests one after another, though a limit "
            f"of {limit} lets both be in flight at once: start every request at once, however few URLs "
            "there are, and let the connector hold back only what is over the limit.\n"
            f"observed:\n{draw_timeline(server.requests, server.name)}"
        )


def short_stretches(requests, limit):
    """The stretches (start, end) in which fewer than `limit` of `requests` were in flight though
    `limit` had started before and some request had not started yet."""
    last_start = max(r.start for r in requests)
    edges = sorted([(r.start, 1) for r in requests] + [(r.end, -1) for r in requests if r.end is not None])
    stretches, in_flight, started, short_since = [], 0, 0, None
    for at, step in edges:
        if at >= last_start:
            break
        in_flight += step
        started += step > 0
        if in_flight >= limit:
            if short_since is not None:
                stretches.append((short_since, at))
                short_since = None
        elif started >= limit and short_since is None:
            short_since = at
    if short_since is not None:
        stretches.append((short_since, last_start))
    return stretches


SLOW_ONE, QUICK = 0.3, 0.05  # one slow URL among quick ones
# A connection freed is handed to a waiting request in a few ms; batches leave it idle until
# the slow reply of theirs is in (SLOW_ONE - QUICK = 0.25 s).
IDLE_AT_MOST = 0.12


@pytest.mark.task(3)
async def test_a_connection_freed_goes_at_once_to_a_waiting_request(ex, rng, server):
    limit = rng.randrange(2, 4)
    user_ids = rng.sample(range(100, 1000), 3 * limit)
    # The first `limit` requests are answered only once `limit` have arrived (at most HELD_AT_MOST
    # s), so that the first `limit` are in flight together, then the slow one alone if nothing
    # takes the quick ones' connections, however far apart a busy machine sends them.
    hold = hold_replies_until_requests(limit, at_most=HELD_AT_MOST)
    urls = [
        server.serve(f"/users/{uid}", hold(Reply(json=user_record(uid), delay=SLOW_ONE if n == 0 else QUICK)))
        for n, uid in enumerate(user_ids)
    ]

    result = await ex.fetch_all_limited(urls, limit)

    assert_same(result, [user_record(uid) for uid in user_ids], "fetch_all_limited's result")
    assert_peak_in_flight(server, limit, expected_calls=len(urls))
    idle = [(since, until) for since, until in short_stretches(server.requests, limit) if until - since > 0]
    longest = max(idle, key=lambda stretch: stretch[1] - stretch[0], default=None)
    if longest is not None and margins.over(
        longest[1] - longest[0], IDLE_AT_MOST, "20 fetch_all_limited: a freed connection is used at once"
    ):
        since, until = (t - server.requests[0].start for t in longest)
        raise AssertionError(
            f"with limit={limit} and {len(urls)} URLs (the first takes {SLOW_ONE} s, the others "
            f"{QUICK} s), fewer than {limit} requests were in flight from {since:.2f} s to {until:.2f} s, "
            "though requests were still waiting to start: a connection sat idle. Batches do that (gather "
            f"{limit} URLs, then the next {limit}): each waits for its slowest reply. Start every request "
            "at once and let the session's connector hand each freed connection to the next one: "
            "`aiohttp.TCPConnector(limit=limit)`.\nobserved:\n"
            f"{draw_timeline(server.requests, server.name)}"
        )


# How long after the server's last reply fetch_all_limited may return: reading that reply and
# closing the session take a few ms (tens in judge mode on a busy machine). A learner trial's
# answer slept 0.25 s once its session had closed, for its connections to close "gracefully" (old
# advice: `async with` closes them on the way out, and nothing is left to wait for).
RETURNS_WITHIN = 0.1


@pytest.mark.task(3)
async def test_fetch_all_limited_returns_as_soon_as_its_last_reply_is_in(ex, rng, server):
    limit = rng.randrange(2, 4)
    user_ids = rng.sample(range(100, 1000), 2 * limit + 1)
    urls = [server.serve(f"/users/{uid}", json=user_record(uid)) for uid in user_ids]

    result = await ex.fetch_all_limited(urls, limit)
    returned = clock.perf_counter()

    assert_same(result, [user_record(uid) for uid in user_ids], "fetch_all_limited's result")
    last = max((r.end for r in server.requests if r.end is not None), default=None)
    if last is None:
        return  # no request at all: the result above says what is wrong
    lag = returned - last
    if margins.over(
        lag, RETURNS_WITHIN, "20 fetch_all_limited: returns < RETURNS_WITHIN after its last reply"
    ):
        raise AssertionError(
            f"the server sent the last of its {len(urls)} replies, and fetch_all_limited returned "
            f"{lag:.2f} s later; reading that reply and closing the session take a few milliseconds. "
            "Something waited after the requests: a pause of your own once they are done (`await "
            "asyncio.sleep(0.25)` after the session closes, old advice to let its connections close: "
            "`async with aiohttp.ClientSession(...)` closes them on the way out, with nothing left to "
            "wait for), or a blocking call. Return the bodies as soon as the gather is done and the "
            "session closed."
        )


@pytest.mark.task(3)
async def test_no_urls_means_an_empty_list(ex, rng):
    result = await ex.fetch_all_limited([], rng.randrange(2, 5))

    assert_same(result, [], "fetch_all_limited([], limit)")


@pytest.mark.task(3)
async def test_a_cancelled_fetch_all_limited_ends_cancelled(ex, rng, server):
    paths = [f"/users/{uid}" for uid in rng.sample(range(100, 1000), 3)]

    await cancelled_while_the_server_answers(
        server, paths, lambda urls: ex.fetch_all_limited(urls, 2), "fetch_all_limited"
    )


@pytest.mark.task(3)
async def test_a_second_call_of_fetch_all_limited_asks_the_server_afresh(ex, rng, server):
    rounds = Rounds()
    user_ids = rng.sample(range(100, 1000), 4)
    urls = [server.serve(f"/users/{uid}", rounds.changing(Reply(json=user_record(uid)))) for uid in user_ids]
    limit = rng.randrange(2, 4)

    for round_number in (1, 2):
        if round_number == 2:
            rounds.next(server)
        result = await ex.fetch_all_limited(urls, limit)
        wanted = [rounds.body(user_record(uid)) for uid in user_ids]
        if round_number == 2 and isinstance(result, list) and len(result) == len(urls):
            stale = [n for n, uid in enumerate(user_ids) if result[n] == {**user_record(uid), "round": 1}]
            if stale:
                n = stale[0]
                raise kept_between_calls("fetch_all_limited", urls[n], server, result[n], wanted[n])
        assert_same(result, wanted, f"call {round_number} of fetch_all_limited")


@pytest.mark.task(3)
async def test_a_repeated_url_is_fetched_each_time_and_has_its_body_in_each_place(ex, rng, server):
    answers = NumberedAnswers(server)
    urls = urls_with_two_repeated(rng, answers, 4)

    result = await ex.fetch_all_limited(urls, rng.randrange(2, 4))

    answers.assert_asked_each_time(urls, "fetch_all_limited")
    answers.assert_each_answer_in_its_place(result, urls, "fetch_all_limited")


# -- Task 4 ----------------------------------------------------------------------------------


def recording_save():
    """An async `save` that records each piece and when it came; returns (save, pieces, times)."""
    pieces, times = [], []

    async def save(piece):
        times.append(clock.perf_counter())
        pieces.append(piece)

    return save, pieces, times


def serve_download(server, rng, chunk_delay, status=200, count=8, path=None, wrap=None):
    """A binary body the server streams in `count` pieces of 1.5 to 4 kB, at `path` (a new one if
    None); returns (url, body, pieces sent). `wrap`, when given, makes the Reply into the reply
    function served instead."""
    sizes = [rng.randrange(1500, 4000) for _ in range(count)]
    body = rng.randbytes(sum(sizes))
    sent, at = [], 0
    for size in sizes:
        sent.append(body[at : at + size])
        at += size
    path = path or f"/files/{rng.randrange(10**6)}.bin"
    reply = Reply(chunks=sent, chunk_delay=chunk_delay, status=status)
    url = server.serve(path, wrap(reply) if wrap else reply)
    return url, body, sent


@pytest.mark.task(4)
@pytest.mark.parametrize("status", [200, LAST_SUCCESS], ids=["status_200", "status_399_below_errors"])
async def test_every_byte_is_saved_in_order_and_counted(ex, rng, server, status, wake_watch):
    chunk_size = rng.choice((512, 1000, 1024))
    save, pieces, _ = recording_save()

    # Its own timers are judged by what they do while the reply is held before it starts (kata.
    # testing.own_timers): a time limit the docstring does not give gives up on a slow server.
    watch = ResponseWatch()
    async with wake_watch(ex) as wakes, watch.session() as session:
        try:
            with OwnTimersProbe(wakes, "download", server) as timers:
                held = partial(timers.reply_after, 0.02)
                url, body, _ = serve_download(server, rng, chunk_delay=0.01, status=status, wrap=held)
                task = asyncio.create_task(ex.download(session, url, save, chunk_size))
                result = await timers.awaited(task, len(body), fix=AWAIT_THE_REQUESTS)
        except aiohttp.ClientResponseError as error:
            raise AssertionError(
                f"the server answered {status} and sent the file, but download raised "
                f"ClientResponseError (status {error.status}). Only 4xx and 5xx are error statuses: "
                "raise for a status of 400 or more (`response.raise_for_status()` does exactly that)."
            ) from error
        finally:
            watch.release_all()

    if not pieces:
        raise AssertionError("download never called save: pass it the body, piece by piece.")
    saved = b"".join(bytes(piece) for piece in pieces)
    if saved != body:
        where = next((i for i, (a, b) in enumerate(zip(saved, body, strict=False)) if a != b), None)
        detail = (
            f"they differ from byte {where} on"
            if where is not None
            else f"the first {min(len(saved), len(body))} bytes match, then one of them goes on"
        )
        raise AssertionError(
            f"the server sent {len(body)} bytes and save received {len(saved)} bytes in "
            f"{len(pieces)} pieces; {detail}. Pass every piece to `await save(piece)` once, in the "
            "order they arrive."
        )
    assert_same(result, len(body), "download's result (the number of bytes saved)")
    assert_used_the_session(server, watch, "download")


@pytest.mark.task(4)
async def test_the_result_counts_the_bytes_saved_not_the_content_length_header(ex, rng, server):
    # The server sends the body gzip-compressed (`Content-Encoding: gzip`), its Content-Length the
    # size sent, and aiohttp unzips it as it reads: save gets more bytes than the header says.
    words = ("async", "await", "session", "reply", "piece", "chunk", "bytes", "saved")
    body = " ".join(rng.choice(words) for _ in range(rng.randrange(3000, 5000))).encode()
    packed = gzip.compress(body)
    third = -(-len(packed) // 3)
    url = server.serve(
        f"/files/{rng.randrange(10**6)}.txt",
        chunks=[packed[at : at + third] for at in range(0, len(packed), third)],
        chunk_delay=0.01,
        headers={"Content-Encoding": "gzip", "Content-Length": str(len(packed))},
    )
    chunk_size = rng.choice((512, 1000, 1024))
    save, pieces, _ = recording_save()

    async with aiohttp.ClientSession() as session:
        result = await ex.download(session, url, save, chunk_size)

    saved = b"".join(bytes(piece) for piece in pieces)
    if saved != body:
        raise AssertionError(
            f"the server sent a body of {len(body)} bytes (gzip-compressed to {len(packed)}, which "
            f"aiohttp unzips as it reads), and save received {len(saved)} bytes in {len(pieces)} "
            "pieces, not that body: pass every piece of `response.content` to `await save(piece)`."
        )
    if result == len(packed):
        raise AssertionError(
            f"download saved {len(saved)} bytes and returned {describe(result)}, the reply's "
            "Content-Length header: the size of the body as it was sent (here gzip-compressed, and "
            "aiohttp unzips it as it reads; a chunked reply has no such header at all). The docstring "
            "asks for the number of bytes saved: count the pieces you pass to save, "
            "`saved += len(piece)`, and return that."
        )
    assert_same(result, len(saved), "download's result (the number of bytes saved)")


@pytest.mark.task(4)
async def test_no_piece_is_bigger_than_chunk_size(ex, rng, server):
    url, _, sent = serve_download(server, rng, chunk_delay=0.01)
    chunk_size = rng.choice((512, 1000, 1024))
    save, pieces, _ = recording_save()

    async with aiohttp.ClientSession() as session:
        await ex.download(session, url, save, chunk_size)

    if not pieces:
        raise AssertionError("download never called save: pass it the body, piece by piece.")
    wrong_type = [piece for piece in pieces if type(piece) is not bytes]
    if wrong_type:
        raise AssertionError(f"save should receive bytes, found {describe(wrong_type[0])}")
    biggest = max(len(piece) for piece in pieces)
    if biggest > chunk_size:
        raise AssertionError(
            f"save received a piece of {biggest} bytes; chunk_size was {chunk_size}. The server sent "
            f"pieces of up to {max(map(len, sent))} bytes: `iter_any()` hands them over as they came, "
            "and `read()` the whole body. `response.content.iter_chunked(chunk_size)` cuts them to size."
        )


def empty_saves_said(pieces, what):
    """Why an empty piece passed to save is wrong, for the saves `pieces` of `what`."""
    where = ", ".join(str(n + 1) for n, piece in enumerate(pieces) if len(piece) == 0)
    return (
        f"{what}, download called save {len(pieces)} time(s), and save number {where} got an empty "
        "piece (b''): that is no piece of the body. The docstring asks for `await save(piece)` for each "
        "piece of the body, and a save is a write the caller pays for (a part uploaded, a record "
        "kept): call it only with bytes. `await response.content.read(chunk_size)` returns b'' once "
        "the body has ended, to say so: stop there, before saving it (`while piece := await "
        "response.content.read(chunk_size):`), or use `async for piece in "
        "response.content.iter_chunked(chunk_size):`, which never hands over an empty piece."
    )


@pytest.mark.task(4)
async def test_save_gets_only_pieces_of_the_body_never_an_empty_one(ex, rng, server):
    # A learner trial's download read `response.content.read(chunk_size)` in a loop that saved each
    # piece before checking it, and so also saved the b'' that marks the end of the body.
    url, body, _ = serve_download(server, rng, chunk_delay=0.0, count=3)
    chunk_size = rng.choice((512, 1000, 1024))
    save, pieces, _ = recording_save()
    empty_url = server.serve(f"/files/{rng.randrange(10**6)}.empty", text="")
    save_of_empty, pieces_of_empty, _ = recording_save()

    async with aiohttp.ClientSession() as session:
        result = await ex.download(session, url, save, chunk_size)
        result_of_empty = await ex.download(session, empty_url, save_of_empty, chunk_size)

    if any(len(piece) == 0 for piece in pieces):
        raise AssertionError(empty_saves_said(pieces, f"the server sent a body of {len(body)} bytes"))
    assert_same(result, len(body), "download's result (the number of bytes saved)")
    if pieces_of_empty:
        if any(len(piece) == 0 for piece in pieces_of_empty):
            raise AssertionError(empty_saves_said(pieces_of_empty, "the server sent an empty body (0 bytes)"))
        raise AssertionError(
            f"the server sent an empty body (0 bytes), and download passed save "
            f"{sum(map(len, pieces_of_empty))} bytes: save only the body's own bytes."
        )
    assert_same(result_of_empty, 0, "download's result for an empty body (the number of bytes saved)")


@pytest.mark.task(4)
async def test_the_first_piece_is_saved_while_the_rest_is_still_arriving(ex, rng, server, wake_watch):
    # Two pieces, far apart: between them, a stretch long enough to judge how download waits.
    chunk_delay = 0.25
    save, _, times = recording_save()
    fix = (
        "Wait for the data instead: `async for piece in response.content.iter_chunked(chunk_size):` "
        "sleeps until a piece is there."
    )

    # Its own timers are judged by what they do as the second piece comes (kata.testing.own_timers),
    # the piece held until they have shown it: a time limit gives up on a slow piece, a poll of the
    # stream never sees it come; a timer that only logs or warns is fine.
    next_piece = ("the next piece of the body", "while it was still on its way", "the next piece had come")
    async with aiohttp.ClientSession() as session, wake_watch(ex) as wakes:
        with OwnTimersProbe(wakes, "download", server, waiting_for=next_piece) as timers:
            held = timers.pieces_held
            url, _, sent = serve_download(server, rng, chunk_delay=chunk_delay, count=2, wrap=held)
            task = asyncio.create_task(ex.download(session, url, save, 1024))
            await timers.awaited(task, fix=fix)

    if not times:
        raise AssertionError("download never called save: pass it the body, piece by piece.")
    request = server.requests[0]
    # The server waits chunk_delay before each piece, so the last one went out no earlier than this.
    last_sent = request.start + len(sent) * chunk_delay - EARLY_WAKE
    first_saved = times[0]
    if margins.over(
        first_saved - request.start,
        last_sent - request.start,
        "20 download: first piece saved < the last one is sent",
    ):
        raise AssertionError(
            f"the server sent the body in {len(sent)} pieces, one every {chunk_delay} s; the first "
            f"piece reached save {first_saved - request.start:.2f} s after the request started, only "
            f"after the last piece had been sent ({last_sent - request.start:.2f} s). So the whole "
            "body sat in memory first: `await response.read()` (or collecting the pieces in a list) "
            "does that. Save each piece as it arrives: "
            "`async for piece in response.content.iter_chunked(chunk_size): await save(piece)`."
        )
    # Between two pieces (the server waits chunk_delay before each), once the last one is saved,
    # nothing changes until the next arrives: code that waits for it sleeps. A loop that looks
    # (`read_nowait()`, then a short sleep) wakes again and again.
    for piece in range(1, len(sent)):
        until = request.start + (piece + 1) * chunk_delay - QUIET_BEFORE
        saved = [t for t in times if t < until]
        if not saved:  # the stretch to watch was over before the first save: a failure on time
            margins.over(
                first_saved - request.start,
                until - request.start,
                "20 download: first piece saved before the next one is sent",
            )
            raise AssertionError(
                f"the server sent the body in {len(sent)} pieces, one every {chunk_delay} s; the first "
                f"piece reached save only {first_saved - request.start:.2f} s after the request started, "
                f"when piece {piece + 1} was due ({until - request.start:.2f} s): too late for this test "
                "to watch how download waits for the next piece. Save each piece as soon as it arrives: "
                "`async for piece in response.content.iter_chunked(chunk_size): await save(piece)`. A "
                "busy machine can do this too: the test is run again, and if it fails the same way on a "
                "quiet machine, the code is the cause."
            )
        since = max(saved) + QUIET_FROM
        until = timers.watched_until(until, since)
        assert_slept_between(
            wakes,
            since,
            until,
            {task: "download"},
            "download",
            f"while it waited for piece {piece + 1} of the body "
            f"(the {until - since:.2f} s this test watched)",
            ("whether more of the body is there", "it comes"),
            fix,
            probe=timers,  # judged by what they do, above
        )


SAVE_TIME = 0.005  # how long each save takes: a write to disk


@pytest.mark.task(4)
async def test_each_piece_is_saved_before_the_next_one_is_read(ex, rng, server):
    url, body, _ = serve_download(server, rng, chunk_delay=0.0, count=4)
    chunk_size = rng.choice((1000, 1024))
    saves = []  # (start, end, piece)

    async def save(piece):
        started = clock.perf_counter()
        await asyncio.sleep(SAVE_TIME)
        saves.append((started, clock.perf_counter(), bytes(piece)))

    async with aiohttp.ClientSession() as session:
        result = await ex.download(session, url, save, chunk_size)

    if not saves:
        raise AssertionError("download never called save: pass it the body, piece by piece.")
    ordered = sorted(saves)
    overlapping = next((n for n in range(1, len(ordered)) if ordered[n][0] < ordered[n - 1][1]), None)
    if overlapping is not None:
        at_once = max(sum(1 for s, e, _ in ordered if s <= start < e) for start, _, _ in ordered)
        raise AssertionError(
            f"each save took {SAVE_TIME * 1000:.0f} ms, and up to {at_once} of them ran at the same time: "
            f"save {overlapping + 1} began before save {overlapping} had returned. Saves started in tasks "
            "of their own (and gathered at the end) run together, out of order, and keep every piece "
            "they hold in memory until they are done: with a slow disk, the whole body. "
            "`await save(piece)` in the loop, before reading the next piece."
        )
    saved = b"".join(piece for _, _, piece in saves)
    if saved != body:
        raise AssertionError(
            f"the server sent {len(body)} bytes; the saves, in the order they ran, hold {len(saved)} bytes "
            "that are not the body in order. `await save(piece)` each piece once, as it arrives."
        )
    assert_same(result, len(body), "download's result (the number of bytes saved)")


@pytest.mark.task(4)
@ERROR_FAMILIES
async def test_an_error_status_raises_saves_nothing_and_releases_the_reply(ex, rng, server, statuses):
    status = rng.choice(statuses)
    # Too large to arrive unread: only releasing the reply frees its connection.
    url = server.serve("/files/missing.bin", large_error_reply(status))
    save, pieces, _ = recording_save()
    watch = ResponseWatch()

    async with watch.session() as session:
        try:
            result = await ex.download(session, url, save, 1024)
        except aiohttp.ClientResponseError as error:
            if error.status != status:
                raise AssertionError(
                    f"the ClientResponseError should carry the reply's status {status}, found {error.status}"
                ) from error
            if pieces:
                raise AssertionError(
                    f"download raised for status {status}, but only after saving "
                    f"{sum(map(len, pieces))} bytes of the error page: check the status before saving."
                ) from error
            assert_used_the_session(server, watch, "download")
            assert_released(watch, "download")
            return
        finally:
            watch.release_all()

    raise AssertionError(
        f"the server answered {status} with an error page, but download saved "
        f"{sum(map(len, pieces))} bytes of it and returned {describe(result)}, as if it were the file. "
        f"{status} is an error status, as is every status of 400 or more: call "
        "`response.raise_for_status()` before reading the body."
    )


@pytest.mark.task(4)
async def test_a_cancelled_download_ends_cancelled(ex, rng, server):
    save, _, _ = recording_save()

    async with aiohttp.ClientSession() as session:
        await cancelled_while_the_server_answers(
            server,
            [f"/files/{rng.randrange(10**6)}.bin"],
            lambda urls: ex.download(session, urls[0], save, 1024),
            "download",
        )


# A cancel while save is at work on a piece: the save runs until the cancel stops it (held, as a
# write to a slow disk). Code that shields the save (`await asyncio.shield(save(piece))`) ends
# cancelled at once and leaves that save running on after download has ended: learner trial AA's
# answer, which a cancel while the server answered never saw.
# The pieces come PIECES_APART s apart, so the cancel lands before the third has come, whatever
# the code does meanwhile: saves in tasks of their own (the cancel then comes as it reads, its saves
# left running) are judged the same in both modes, not by whether it had reached its final gather.
SAVE_CANCELLED_AFTER = 0.05
PIECES_APART = 0.3
RUN_LIMIT = 3.0  # far above a correct download here (under 0.7 s); one that hangs is stopped then


@pytest.mark.task(4)
async def test_a_download_cancelled_while_it_saves_a_piece_stops_that_save_too(ex, rng, server):
    url, _, _ = serve_download(server, rng, chunk_delay=PIECES_APART, count=4)
    saved_one = asyncio.Event()  # never set: the second call to save lasts until it is cancelled
    save = FakeService("save", delay=0.0, hold=lambda call: saved_one if len(save.calls) >= 2 else None)
    moment = "while its second call to save was at work"

    async with aiohttp.ClientSession() as session:
        # The calls to save not yet ended, and never cancelled, the instant download ended.
        run = Run(
            ex.download(session, url, save, 1024),
            snapshot=lambda: [call for call in save.calls if call.outcome == "running"],
        )
        loop = asyncio.get_running_loop()
        save.on_start = lambda call: (
            len(save.calls) == 2 and loop.call_later(SAVE_CANCELLED_AFTER, run.cancel, moment)
        )
        try:
            finished = await run.finish(RUN_LIMIT)
            if not finished:
                await run.stop()
        finally:
            saved_one.set()
            await settle()
    assert_ended_after_the_cancel(run, "download", unreached="without calling save a second time")
    if run.left:
        raise AssertionError(
            f"download was cancelled by its caller {moment}, and it {run.ending()} with that save still "
            "running, never cancelled: it went on after download had ended. `asyncio.shield(save(piece))` "
            "(or a task of its own for the save) keeps the save going when its caller is cancelled. A "
            "cancel means stop now: `await save(piece)` as it is, and the cancel stops the save along "
            "with the download."
        )
    assert_ended_cancelled(run, "download", unreached="without calling save a second time")


@pytest.mark.task(4)
async def test_a_second_download_of_the_same_url_asks_the_server_afresh_and_saves_afresh(ex, rng, server):
    # The file changes on the server between the calls, as a live one may. Call 2 has the same
    # arguments as call 1 (the same save too); call 3 the same URL and a new save, as a caller
    # saving to another file would. Nothing may be kept from one call to the next: not the pieces,
    # not their count, not the save.
    path = f"/files/{rng.randrange(10**6)}.bin"
    chunk_size = rng.choice((512, 1000, 1024))
    saves = [recording_save(), recording_save()]  # (save, pieces, times): call 1 and 2's, call 3's
    calls = (
        (0, "a second time, with the same arguments"),
        (1, "a third time, with the same URL and a new save (another file)"),
    )

    async with aiohttp.ClientSession() as session:
        url, first_body, _ = serve_download(server, rng, chunk_delay=0.0, count=4, path=path)
        await ex.download(session, url, saves[0][0], chunk_size)
        for which, call in calls:
            url, body, _ = serve_download(server, rng, chunk_delay=0.0, count=4, path=path)
            server.reset()
            before = [len(pieces) for _, pieces, _ in saves]
            result = await ex.download(session, url, saves[which][0], chunk_size)
            got = [
                b"".join(bytes(p) for p in pieces[n:])
                for (_, pieces, _), n in zip(saves, before, strict=True)
            ]
            changed = (
                f"download(session, {url!r}, save, {chunk_size}) was called {call}, and the file on the "
                f"server had changed since the call before: a new body of {len(body)} bytes"
            )
            keep_nothing = (
                "Keep nothing from one call to the next (no dict of what was downloaded, no save kept in a "
                "variable outside the function): every call GETs its URL afresh and passes what the server "
                "sends now to the `save` it was given."
            )
            if not server.requests:
                saved = f"saved {len(got[which])} bytes" if got[which] else "saved nothing"
                raise AssertionError(
                    f"{changed}, but no request reached the server in that call: it {saved} and returned "
                    f"{describe(result)}. {keep_nothing}"
                )
            if got[1 - which]:
                raise AssertionError(
                    f"{changed}, and {len(got[1 - which])} bytes of it went to the save of an earlier call, "
                    f"not to the save given in this one. {keep_nothing}"
                )
            if got[which] != body:
                stale = " (the body of the first call)" if got[which] == first_body else ""
                raise AssertionError(
                    f"{changed}, and save received {len(got[which])} bytes that are not that body{stale}. "
                    f"{keep_nothing}"
                )
            assert_same(
                result, len(body), f"download's result when called {call} (the number of bytes saved)"
            )
