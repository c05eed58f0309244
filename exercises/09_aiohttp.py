"""Exercise 09: aiohttp, many web requests with one session

Why
---
`requests.get(url)` blocks: while it waits for the server, the whole event loop
waits with it, so 10 "concurrent" downloads of 1 s each still take 10 s. aiohttp
is an HTTP client made for asyncio: every request is awaited, and while one waits
the loop runs the others, so the same 10 downloads take about 1 s. You make
requests through a `ClientSession`, which keeps a pool of open connections to
reuse. Open ONE session for a batch of requests, share it, and close it at the end:
`async with aiohttp.ClientSession() as session:` does the closing for you.

Example (save it as demo.py and run `python demo.py`; it starts its own tiny server)
-------
    import asyncio, time
    import aiohttp
    from aiohttp import web
    from aiohttp.test_utils import TestServer

    async def slow_number(request):                     # the server: each answer takes 1 s
        await asyncio.sleep(1)
        return web.json_response({"n": int(request.match_info["n"])})

    async def get_json(session, url):
        async with session.get(url) as response:        # the status and headers are here...
            return await response.json()                # ...the body may not be yet: await it

    async def main():
        app = web.Application()
        app.router.add_get("/{n}", slow_number)
        async with TestServer(app) as server:           # listens on 127.0.0.1, a free port
            urls = [str(server.make_url(f"/{n}")) for n in range(3)]
            start = time.perf_counter()
            async with aiohttp.ClientSession() as session:
                pages = await asyncio.gather(*(get_json(session, url) for url in urls))
            print(pages, f"{time.perf_counter() - start:.1f} s")   # [{'n': 0}, {'n': 1}, {'n': 2}] 1.0 s

    asyncio.run(main())

The pitfall
-----------
A new `ClientSession` inside `get_json` (one per URL) throws the connection pool
away after every request, and a session you never close leaks its connections.
`return response.json()` without `await` hands back a coroutine, not your data.
And aiohttp does not raise for a 404 or a 500: `await response.json()` happily
returns the error message as if it were data. Call `response.raise_for_status()`
first; it raises `aiohttp.ClientResponseError` for any 4xx or 5xx status.

Your tasks
----------
Replace each `raise NotImplementedError` below. Check your work with
`python grade.py` (or `pytest tests/test_09_aiohttp.py`).
"""


# Task 1: fetch one JSON document
async def fetch_json(session, url):
    """GET `url` with the `session` you are given and return its JSON body, parsed.

    Every call sends exactly one request (no cache, no retry). Any success status (200, 201,
    ...) returns the body; if the server answers with an error status (4xx or 5xx), raise
    `aiohttp.ClientResponseError` instead of returning the body.
    """
    raise NotImplementedError


# Task 2: many URLs, one session
async def fetch_multiple_urls(urls):
    """Fetch every URL in `urls` at the same time; return their JSON bodies in the order of `urls`.

    Open ONE `aiohttp.ClientSession` with `async with`, share it between all the
    requests (make them with `fetch_json`), and let it close when they are done.
    If a request fails, let the error reach the caller.
    A cancel from the caller stops it and every request it started: let it through,
    so that it ends cancelled with none of its requests still running.
    """
    raise NotImplementedError
