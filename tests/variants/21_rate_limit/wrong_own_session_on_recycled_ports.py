"""Every request on a ClientSession of its own, each bound to a client port the given session used a moment before (a decoy server of its own closes first): its requests look like the given session's."""
# No exact list of failures: caught by test_bodies_come_back_in_the_order_of_the_urls (its own session), but its
# decoy round trips and borrowed ports take time a busy machine stretches, and then it also fails other tests
# (CI at 5d34cc9, one process: a fetch task left running in the failed-request test, 4 requests in a window).
# ruff: noqa

import asyncio
from collections import deque


# Task 1: a sliding-window rate limiter
class RateLimiter:
    """Lets at most `rate` calls start in any `per` seconds, across every task that shares it.

        limiter = RateLimiter(10, per=1.0)
        async with limiter:        # waits until one more call may start
            await fetch(url)

    Calls must not wait longer than the rule needs: when fewer than `rate` calls
    started in the last `per` seconds, `acquire` returns at once. (Spacing calls
    evenly, one every `per / rate` seconds, is a stricter rule that is fine too.)
    """

    def __init__(self, rate, per=1.0):
        """Remember `rate` and `per`, and start with no recorded calls."""
        self.rate = rate
        self.per = per
        self._starts = deque()  # loop.time() of the calls that started in the last `per` s

    async def acquire(self):
        """Wait until a call may start without breaking the rule, then record its start."""
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            while self._starts and now - self._starts[0] >= self.per:
                self._starts.popleft()
            if len(self._starts) < self.rate:
                self._starts.append(now)
                return
            await asyncio.sleep(self._starts[0] + self.per - now)

    async def __aenter__(self):
        await self.acquire()
        return self

    async def __aexit__(self, exc_type, exc, tb):
        return None


# Task 2: many requests, one limiter
async def fetch_all_rate_limited(session, urls, rate, per=1.0):
    """GET every URL in `urls` with `session` and return their JSON bodies, in the order of `urls`.

    Run the requests at the same time as far as the limit allows: at most `rate`
    requests may start in any `per` seconds, so share ONE RateLimiter between them.
    """
    limiter = RateLimiter(rate, per)

    async def fetch(url):
        async with limiter, session.get(url) as response:
            return await response.json()

    return await asyncio.gather(*(fetch(url) for url in urls))


# --- the variant's mistake: these definitions replace the reference ones above ---

import aiohttp

import socket as _socket


async def _borrow_port(session):
    """Get the given session to open a connection to a decoy of ours; return its client port,
    freed for reuse (the decoy answers Connection: close and closes first)."""
    ports = []

    async def handle(reader, writer):
        ports.append(writer.get_extra_info("peername")[1])
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
        await writer.drain()
        await asyncio.sleep(0.02)
        writer.close()

    decoy = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = decoy.sockets[0].getsockname()[1]
    try:
        async with session.get(f"http://127.0.0.1:{port}/") as r:
            await r.read()
    finally:
        decoy.close()
        await decoy.wait_closed()
    p = ports[0]
    for _ in range(10):  # until the port is free (the decoy closed first, so no TIME_WAIT here)
        await asyncio.sleep(0.01)
        probe = _socket.socket()
        try:
            probe.bind(("127.0.0.1", p))
            return p
        except OSError:
            pass
        finally:
            probe.close()
    return None


def _own_session(p, **kw):
    conn = aiohttp.TCPConnector(local_addr=("127.0.0.1", p), force_close=True)
    return aiohttp.ClientSession(connector=conn, **kw)


async def _own_get(session, url, kept=None, **kw):
    """A response for url from a ClientSession of our own, on a port the given session used."""
    for _ in range(50):
        p = await _borrow_port(session)
        if p is None:
            continue
        own = _own_session(p, **kw)
        try:
            response = await own.get(url)
        except aiohttp.ClientConnectorError:
            await own.close()
            continue
        (kept if kept is not None else _owns).append(own)
        return response
    raise RuntimeError("no port")


_owns = []
_kept = __import__("builtins").__dict__.setdefault(
    "_probe_kept", []
)  # outlives the module: no unclosed-session noise


async def fetch_all_rate_limited(session, urls, rate, per=1.0):
    limiter = RateLimiter(rate, per)

    async def fetch(url):
        async with limiter:
            response = await _own_get(session, url)
        async with response:
            return await response.json()

    try:
        return await asyncio.gather(*(fetch(url) for url in urls))
    finally:
        for own in _owns:
            await own.close()
        _owns.clear()
