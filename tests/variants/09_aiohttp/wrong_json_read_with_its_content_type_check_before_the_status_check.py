"""Mistake: fetch_json reads the body with `await response.json()` before it checks the status: an
error reply whose body says it is JSON but is not raises JSONDecodeError, not ClientResponseError
(aiohttp's own check of the Content-Type raises a ClientResponseError for the text and HTML pages)."""
# fails only: test_fetch_json_raises_client_response_error_for_an_error_status[client_error_400], test_fetch_json_raises_client_response_error_for_an_error_status[client_error_4xx], test_fetch_json_raises_client_response_error_for_an_error_status[server_error_500], test_fetch_json_raises_client_response_error_for_an_error_status[server_error_5xx]
# ruff: noqa: E501 (the line above names every test it fails)

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
        body = await response.json()
        response.raise_for_status()
        return body


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
        return await asyncio.gather(*(fetch_json(session, url) for url in urls))
