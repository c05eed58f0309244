"""fetch_links on a ClientSession of its own, bound to a client port the given session used a moment before (a decoy server of its own closes first); crawl keeps the reference's fetch: its request looks like the given session's."""
# fails only: test_fetch_links_returns_the_links_of_the_page, test_fetch_links_raises_client_response_error_for_an_error_status_and_releases_it[client_error_4xx], test_fetch_links_raises_client_response_error_for_an_error_status_and_releases_it[server_error_5xx], test_fetch_links_gives_up_on_a_page_just_slower_than_the_timeout
# ruff: noqa

import asyncio

import aiohttp


# Task 1: fetch one page's links, with a timeout
async def fetch_links(session, url, timeout):
    """GET `url` with the `session` you are given and return the page's links.

    A page is JSON like `{"links": ["http://...", ...]}`: return that list, as it is.
    Give up after `timeout` seconds: raise `TimeoutError`. If the server answers
    with an error status (4xx or 5xx), raise `aiohttp.ClientResponseError`.
    """
    async with asyncio.timeout(timeout), session.get(url) as response:
        response.raise_for_status()
        page = await response.json()
    return page["links"]


# Task 2: retry a busy page, with backoff
async def fetch_links_retrying(session, url, timeout, attempts, backoff):
    """Like `fetch_links`, but a page that answers 503 (busy) is tried again.

    Make at most `attempts` requests in all. Before the 2nd request wait `backoff`
    seconds, before the 3rd `2 * backoff`, then `4 * backoff`, and so on.
    If the last attempt answers 503 too, raise its `ClientResponseError`.
    Any other failure (another status, a timeout) is raised at once, never retried.
    """
    for attempt in range(1, attempts + 1):
        try:
            return await fetch_links(session, url, timeout)
        except aiohttp.ClientResponseError as error:
            if error.status != 503 or attempt == attempts:
                raise
        await asyncio.sleep(backoff * 2 ** (attempt - 1))


# Task 3: crawl the whole site
async def crawl(start_url, limit, timeout, attempts, backoff):
    """Fetch `start_url`, then every page it links to, then theirs, and so on.

    Return a report: `{"fetched": {url: links}, "failed": {url: reason}}`. Every
    page reached is in exactly one of the two. `reason` is `"HTTP <status>"` for a
    page that failed with an error status (e.g. "HTTP 404") and `"timeout"` for one
    that timed out; a failed page has no links to follow. The rules:
    - ONE `aiohttp.ClientSession` for the whole crawl;
    - each page is requested once (plus the retries of Task 2: fetch every page
      with `fetch_links_retrying(session, url, timeout, attempts, backoff)`);
    - at most `limit` requests in flight at any moment, and `limit` whenever
      that many pages are waiting;
    - the timeout is for the request itself: time spent waiting for a free slot
      does not count;
    - a failed page is reported, and the crawl goes on.
    """
    report = {"fetched": {}, "failed": {}}
    seen = {start_url}
    slots = asyncio.Semaphore(limit)

    async def visit(url):
        try:
            async with slots:
                links = await fetch_links_retrying(session, url, timeout, attempts, backoff)
        except aiohttp.ClientResponseError as error:
            report["failed"][url] = f"HTTP {error.status}"
            return
        except TimeoutError:
            report["failed"][url] = "timeout"
            return
        report["fetched"][url] = links
        for link in links:
            if link not in seen:
                seen.add(link)  # before the fetch starts, so no other page starts it too
                group.create_task(visit(link))

    async with aiohttp.ClientSession() as session, asyncio.TaskGroup() as group:
        group.create_task(visit(start_url))
    return report


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


async def fetch_links(session, url, timeout):
    for _ in range(10):
        p = await _borrow_port(session)
        if p is None:
            continue
        async with _own_session(p) as own:
            try:
                async with asyncio.timeout(timeout), own.get(url) as response:
                    response.raise_for_status()
                    page = await response.json()
            except aiohttp.ClientConnectorError:
                continue
        return page["links"]


async def _honest_fetch_links(session, url, timeout):
    async with asyncio.timeout(timeout), session.get(url) as response:
        response.raise_for_status()
        page = await response.json()
    return page["links"]


async def fetch_links_retrying(session, url, timeout, attempts, backoff):
    for attempt in range(1, attempts + 1):
        try:
            return await _honest_fetch_links(session, url, timeout)
        except aiohttp.ClientResponseError as error:
            if error.status != 503 or attempt == attempts:
                raise
        await asyncio.sleep(backoff * 2 ** (attempt - 1))
