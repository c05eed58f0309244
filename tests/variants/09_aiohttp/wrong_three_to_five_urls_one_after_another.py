"""Wrong: fetch_multiple_urls fetches three to five URLs one after another, and gathers them for every
other size: sizes no other test checks for overlap (red team W3)."""
# fails only: test_a_list_of_any_size_has_all_its_urls_fetched_at_the_same_time

import asyncio

import aiohttp


# Task 1: fetch one JSON document
async def fetch_json(session, url):
    """GET `url` with the `session` you are given and return its JSON body, parsed.

    Every call sends exactly one request (no cache, no retry). Any success status (200, 201,
    ...) returns the body; if the server answers with an error status (4xx or 5xx), raise
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
    A cancel from the caller stops it and every request it started: let it through,
    so that it ends cancelled with none of its requests still running.
    """
    async with aiohttp.ClientSession() as session:
        if 3 <= len(urls) <= 5:
            return [await fetch_json(session, url) for url in urls]
        return await asyncio.gather(*(fetch_json(session, url) for url in urls))
