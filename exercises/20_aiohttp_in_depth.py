"""Exercise 20: aiohttp in depth: timeouts, statuses, connection limits, streaming

Why
---
Exercise 09 fetched JSON from a polite server. Real servers hang, fail, and send
files bigger than your memory. aiohttp has a tool for each:
- `aiohttp.ClientTimeout(total=2)` caps a whole request, headers and body. Give it
  to `ClientSession(timeout=...)` for every request, or to one `session.get(url,
  timeout=...)`. When the time is up, aiohttp drops the connection and raises
  `TimeoutError` (the same class as asyncio.TimeoutError). Exercise 11's
  `asyncio.timeout` works here too.
- A 404 or a 500 is still a reply: `response.status` tells you which.
- `aiohttp.TCPConnector(limit=10)` is the session's connection pool: at most 10
  connections at once, and the other requests wait for a free one. A polite client
  sends 100 requests through a pool of 10, not 100 at once.
- `response.content.iter_chunked(n)` hands you the body n bytes at a time as it
  arrives, so a 2 GB download never needs 2 GB of memory.

Example (save it as demo.py and run `python demo.py`; it starts its own tiny server)
-------
    import asyncio, time
    import aiohttp
    from aiohttp import web
    from aiohttp.test_utils import TestServer

    async def slow(request):                              # the server: each answer takes 1 s
        await asyncio.sleep(1)
        return web.json_response({"path": request.path})

    async def get_json(session, url):
        async with session.get(url) as response:
            return await response.json()

    async def main():
        app = web.Application()
        app.router.add_get("/{name}", slow)
        async with TestServer(app) as server:
            urls = [str(server.make_url(f"/{n}")) for n in range(6)]
            connector = aiohttp.TCPConnector(limit=2)       # 2 connections at a time
            async with aiohttp.ClientSession(connector=connector) as session:
                start = time.perf_counter()
                await asyncio.gather(*(get_json(session, url) for url in urls))
                print(f"6 requests, 2 at a time: {time.perf_counter() - start:.1f} s")  # 3.0 s
                try:
                    async with session.get(urls[0], timeout=aiohttp.ClientTimeout(total=0.5)) as r:
                        print(await r.json())
                except TimeoutError:
                    print("gave up after 0.5 s")

    asyncio.run(main())

The pitfall
-----------
`except aiohttp.ClientError` does not catch a timeout: a total timeout raises a
plain `TimeoutError`. `ClientTimeout(sock_read=2)` limits each single read, so a
server that sends one byte a second never trips it. `total` also counts the wait
for a free connection in the pool. A connector made per request (a session per URL)
limits nothing. And `await response.read()` or `.json()` keeps the whole body in
memory: fine for an API reply, not for a file.

Your tasks
----------
Replace each `raise NotImplementedError` below. Check your work with
`python grade.py` (or `pytest tests/test_20_aiohttp_in_depth.py`).
"""


# Task 1: give up on a slow reply
async def fetch_with_timeout(session, url, seconds):
    """GET `url` with the `session` you are given and return its JSON body, parsed.

    The whole reply, headers and body, must arrive within `seconds`. If it has not,
    give up: stop the request and return None. Any other error is not a timeout: let it reach the caller,
    and a cancel from the caller is not one either: let it through, so that the call ends cancelled.
    """
    raise NotImplementedError


# Task 2: sort the replies by status
async def fetch_statuses(session, urls):
    """GET every URL in `urls` with `session`, all at the same time.

    Return a dict with one entry per URL: the parsed JSON body when the reply's
    status is below 400, or the status code itself (an int such as 404 or 503)
    when it is an error status. One error must not cost you the other replies.
    A cancel from the caller stops it and every request it started: let it through,
    so that it ends cancelled with none of its requests still running.
    """
    raise NotImplementedError


# Task 3: cap the connections
async def fetch_all_limited(urls, limit):
    """Fetch every URL in `urls` (JSON bodies) through ONE session that never has more
    than `limit` connections open; return the bodies in the order of `urls`.

    Start every request at once and let the session's connector hold back the rest:
    exactly `limit` requests should be in flight whenever that many are waiting.
    A cancel from the caller stops it and every request it started: let it through,
    so that it ends cancelled with none of its requests still running.
    """
    raise NotImplementedError


# Task 4: stream a large download
async def download(session, url, save, chunk_size):
    """GET `url` with `session` and pass its body to `save` piece by piece, as it arrives.

    Call `await save(piece)` for each piece of at most `chunk_size` bytes, in order,
    without ever holding the whole body in memory. Return the number of bytes saved.
    If the server answers with an error status (4xx or 5xx), raise
    `aiohttp.ClientResponseError` and save nothing.
    A cancel from the caller stops it and its request: let it through, so that download
    ends cancelled with its request stopped too.
    """
    raise NotImplementedError
