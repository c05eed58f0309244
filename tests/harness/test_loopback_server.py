"""LoopbackServer records when each client connection closes (09 judges one shared session by it),
serves a reply last, after every other route's (09's error tests), and holds replies until a number
of requests is in (09 and 20 count the requests a client keeps in flight at once)."""

import asyncio

import aiohttp
import pytest

from kata.testing import clock
from kata.testing.server import LoopbackServer, Reply, hold_replies_until_requests


async def all_closed(server, within=5.0):
    """Wait (at most `within` s, for a loaded machine) until every connection the server saw closed."""
    deadline = clock.perf_counter() + within
    while len(server.closed_at) < server.connection_count and clock.perf_counter() < deadline:
        await asyncio.sleep(0.01)
    return sorted(server.closed_at) == list(range(1, server.connection_count + 1))


async def get(session, url):
    async with session.get(url) as response:
        return await response.json()


async def test_a_shared_session_keeps_its_connections_open_until_it_closes():
    async with LoopbackServer() as server:
        urls = [server.serve(f"/{n}", json=n) for n in range(3)]
        async with aiohttp.ClientSession() as session:
            assert await asyncio.gather(*(get(session, url) for url in urls)) == [0, 1, 2]
            assert not await server.a_connection_closes(within=0.05)
            assert server.closed_at == {}
            closing = clock.perf_counter()
        assert await all_closed(server)
        assert all(moment >= closing for moment in server.closed_at.values())


async def test_a_session_per_request_closes_each_connection_after_its_reply():
    async with LoopbackServer() as server:
        url = server.serve("/n", json=1)
        async with aiohttp.ClientSession() as session:
            assert await get(session, url) == 1
        assert await server.a_connection_closes(within=5.0)
        first = dict(server.closed_at)
        assert list(first) == [1]
        async with aiohttp.ClientSession() as session:
            assert await get(session, url) == 1
        assert await all_closed(server) and server.connection_count == 2
        assert server.closed_at[1] == first[1] < min(call.end for call in server.calls[1:])


async def test_reset_forgets_the_closed_connections():
    async with LoopbackServer() as server:
        url = server.serve("/n", json=1)
        async with aiohttp.ClientSession() as session:
            await get(session, url)
        assert await server.a_connection_closes(within=5.0)
        server.reset()
        assert server.closed_at == {} and server.connection_count == 0
        assert not await server.a_connection_closes(within=0.01)


async def test_a_reply_served_last_waits_until_every_other_route_is_answered():
    async with LoopbackServer() as server:
        # The others take longer than a fixed delay on the last reply would have guessed.
        urls = [server.serve(f"/{n}", json=n, delay=0.3) for n in range(3)]
        urls.append(server.serve("/broken", server.last(Reply(status=503, json={"error": "busy"}))))
        async with aiohttp.ClientSession() as session:
            assert await asyncio.gather(*(get(session, url) for url in urls)) == [0, 1, 2, {"error": "busy"}]
        broken = next(r for r in server.requests if r.path == "/broken")
        assert broken.status == 503
        assert all(r.end < broken.end for r in server.requests if r is not broken)


async def test_a_reply_served_last_waits_no_longer_than_within():
    async with LoopbackServer() as server:
        server.serve("/never-asked", json=0)
        url = server.serve("/last", server.last(Reply(json=1), within=0.2))
        async with aiohttp.ClientSession() as session:
            started = clock.perf_counter()
            assert await get(session, url) == 1
            assert 0.2 <= clock.perf_counter() - started < 5.0  # 5 s: a loaded machine


async def test_held_replies_wait_until_count_requests_are_in():
    async with LoopbackServer() as server:
        hold = hold_replies_until_requests(3, at_most=10.0)
        urls = [server.serve(f"/{n}", hold(Reply(json=n))) for n in range(3)]
        async with aiohttp.ClientSession() as session:
            first = [asyncio.create_task(get(session, url)) for url in urls[:2]]
            deadline = clock.perf_counter() + 5.0  # a loaded machine
            while len(server.requests) < 2 and clock.perf_counter() < deadline:
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.2)  # time enough for an unheld reply to arrive
            assert len(server.requests) == 2 and not any(task.done() for task in first)
            assert await get(session, urls[2]) == 2
            assert await asyncio.gather(*first) == [0, 1]
        assert server.peak == 3
        last_in = max(r.start for r in server.requests)
        assert all(r.end >= last_in for r in server.requests)


async def test_after_at_most_no_reply_is_held_again():
    async with LoopbackServer() as server:
        at_most = 1.0
        hold = hold_replies_until_requests(3, at_most=at_most)
        urls = [server.serve(f"/{n}", hold(Reply(json=n))) for n in range(3)]
        async with aiohttp.ClientSession() as session:
            # One after another, as code that waits for each reply sends them: the first waits
            # out the limit, and the others are not held at all (not `at_most` each).
            assert [await get(session, url) for url in urls] == [0, 1, 2]
        first, *later = server.requests
        assert first.end - first.start >= at_most
        assert all(r.end - r.start < at_most / 2 for r in later)  # half: a loaded machine
        assert not hold.still_arriving  # none came while the first waited: no busy machine's doing


@pytest.mark.load_sensitive  # its premise: each request comes within 0.2 s of the one before
async def test_requests_that_keep_arriving_slowly_are_all_held_past_at_most():
    # A busy machine sends the requests of code that asks for every URL at once slowly: 6 of them
    # 0.1 s apart take 0.5 s, past `at_most` (0.3 s). The hold goes on while they still come
    # (kata.testing.hold_ends), and the server sees all 6 at once.
    async with LoopbackServer() as server:
        hold = hold_replies_until_requests(6, at_most=0.3)
        urls = [server.serve(f"/{n}", hold(Reply(json=n))) for n in range(6)]
        async with aiohttp.ClientSession() as session:
            tasks = []
            for url in urls:
                tasks.append(asyncio.create_task(get(session, url)))
                await asyncio.sleep(0.1)
            assert await asyncio.gather(*tasks) == list(range(6))
        assert server.peak == 6 and hold.reached and not hold.still_arriving


async def test_a_streamed_reply_waits_for_before_piece_before_each_piece_after_the_first():
    # 20's test of a streamed download holds each piece after the first until the probe of the
    # code's own timers is done (OwnTimersProbe.pieces_held): the first piece goes out at once, the
    # second only once before_piece has returned, and the client reads both in order.
    go = asyncio.Event()
    asked = []

    async def before_piece():
        asked.append(clock.perf_counter())
        await go.wait()

    async with LoopbackServer() as server:
        url = server.serve("/file", Reply(chunks=[b"first", b"second"], before_piece=before_piece))
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            first = await response.content.readexactly(5)
            assert first == b"first"
            second = asyncio.create_task(response.content.read())
            await asyncio.sleep(0.1)
            assert len(asked) == 1 and not second.done(), "the second piece went out before it was let go"
            go.set()
            assert await asyncio.wait_for(second, 5) == b"second"
