"""fetch_json on a ClientSession of its own, bound to a client port the given session used a moment before (to a decoy server of its own that closes first): the server's peer matches a connection the MarkingConnector noted."""
# fails only: test_fetch_json_sends_the_request_through_the_session_it_is_given, test_fetch_json_asks_the_server_again_at_every_call_through_its_session, test_fetch_json_sends_one_request_when_the_connection_drops
# ruff: noqa

import asyncio

import aiohttp


# Task 1: fetch one JSON document
async def fetch_json(session, url):
    """GET `url` with the `session` you are given and return its JSON body, parsed.

    If the server answers with an error status (4xx or 5xx), raise
    `aiohttp.ClientResponseError` instead of returning the body.
    """
    async with session.get(url) as response:
        response.raise_for_status()
        return await response.json()


# Task 2: many URLs, one session
async def fetch_multiple_urls(urls):
    """Fetch every URL in `urls` at the same time; return their JSON bodies in the order of `urls`.

    Open ONE `aiohttp.ClientSession` with `async with`, share it between all the
    requests (made with `fetch_json`), and let it close when they are done. If a
    request fails, let the error reach the caller.
    """
    async with aiohttp.ClientSession() as session:
        return await asyncio.gather(*(fetch_json(session, url) for url in urls))


# --- the variant's mistake: these definitions replace the reference ones above ---

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


async def fetch_json(session, url):
    response = await _own_get(session, url)
    try:
        async with response:
            response.raise_for_status()
            return await response.json()
    finally:
        await _owns.pop().close()


async def _honest_fetch_json(session, url):
    async with session.get(url) as response:
        response.raise_for_status()
        return await response.json()


async def fetch_multiple_urls(urls):
    async with aiohttp.ClientSession() as session:
        return await asyncio.gather(*(_honest_fetch_json(session, url) for url in urls))
