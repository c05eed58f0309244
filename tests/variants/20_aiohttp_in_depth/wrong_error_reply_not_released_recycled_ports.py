"""wrong_error_reply_not_released_own_session, with each own session bound to a client port the given session used a moment before (a decoy server of its own closes first): its requests look like the given session's."""
# fails only: test_each_url_maps_to_its_body_or_its_error_status, test_every_reply_is_released_an_error_reply_too, test_a_cancelled_fetch_statuses_ends_cancelled, test_a_second_cancel_while_its_requests_stop_leaves_none_running_either
# ruff: noqa: E501 (the line above names every test it fails)
# ruff: noqa

import asyncio

import aiohttp


# Task 1: give up on a slow reply
async def fetch_with_timeout(session, url, seconds):
    """GET `url` with the `session` you are given and return its JSON body, parsed.

    The whole reply, headers and body, must arrive within `seconds`. If it has not,
    give up: stop the request and return None.
    """
    try:
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=seconds)) as response:
            return await response.json()
    except TimeoutError:
        return None


# Task 2: sort the replies by status
async def fetch_statuses(session, urls):
    """GET every URL in `urls` with `session`, all at the same time.

    Return a dict with one entry per URL: the parsed JSON body when the reply's
    status is below 400, or the status code itself (an int such as 404 or 503)
    when it is an error status. One error must not cost you the other replies.
    """

    async def body_or_status(url):
        async with session.get(url) as response:
            if response.status >= 400:
                return response.status
            return await response.json()

    results = await asyncio.gather(*(body_or_status(url) for url in urls))
    return dict(zip(urls, results, strict=True))


# Task 3: cap the connections
async def fetch_all_limited(urls, limit):
    """Fetch every URL in `urls` (JSON bodies) through ONE session that never has more
    than `limit` connections open; return the bodies in the order of `urls`.

    Start every request at once and let the session's connector hold back the rest:
    exactly `limit` requests should be in flight whenever that many are waiting.
    """

    async def get_json(session, url):
        async with session.get(url) as response:
            return await response.json()

    connector = aiohttp.TCPConnector(limit=limit)
    async with aiohttp.ClientSession(connector=connector) as session:
        return list(await asyncio.gather(*(get_json(session, url) for url in urls)))


# Task 4: stream a large download
async def download(session, url, save, chunk_size):
    """GET `url` with `session` and pass its body to `save` piece by piece, as it arrives.

    Call `await save(piece)` for each piece of at most `chunk_size` bytes, in order,
    without ever holding the whole body in memory. Return the number of bytes saved.
    If the server answers with an error status (4xx or 5xx), raise
    `aiohttp.ClientResponseError` and save nothing.
    """
    saved = 0
    async with session.get(url) as response:
        response.raise_for_status()
        async for piece in response.content.iter_chunked(chunk_size):
            await save(piece)
            saved += len(piece)
    return saved


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


async def fetch_statuses(session, urls):
    async def body_or_status(url):
        response = await _own_get(session, url, kept=_kept)
        if response.status >= 400:
            return response.status  # never released, and its session never closed
        return await response.json()

    results = await asyncio.gather(*(body_or_status(url) for url in urls))
    return dict(zip(urls, results, strict=True))
