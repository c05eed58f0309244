"""Mistake: bodies cached in the module by `id(session)`: a URL asked again on a session is not fetched.

An id is an object's own only while it is alive: a session closed and freed can hand its id to the
next one, whose calls then get the old session's bodies too.
"""

import asyncio

import aiohttp

_cache = {}  # id(session) -> {url: body}


# Task 1: fetch one JSON document
async def fetch_json(session, url):
    """GET `url` with the `session` you are given and return its JSON body, parsed.

    Every call sends exactly one request (no cache, no retry). Any success status (200, 201,
    ...) returns the body; if the server answers with an error status (4xx or 5xx), raise
    `aiohttp.ClientResponseError` instead of returning the body.
    """
    bodies = _cache.setdefault(id(session), {})  # each session remembers what it fetched
    if url in bodies:
        return bodies[url]
    async with session.get(url) as response:
        response.raise_for_status()
        bodies[url] = await response.json()
        return bodies[url]


# Task 2: many URLs, one session
async def fetch_multiple_urls(urls):
    """Fetch every URL in `urls` at the same time; return their JSON bodies in the order of `urls`.

    Open ONE `aiohttp.ClientSession` with `async with`, share it between all the
    requests (made with `fetch_json`), and let it close when they are done. If a
    request fails, let the error reach the caller.
    """
    async with aiohttp.ClientSession() as session:
        return await asyncio.gather(*(fetch_json(session, url) for url in urls))
