"""fetch_json on a ClientSession of its own over the given session's connector (connector_owner=False): the MarkingConnector notes its connections, so one process passes the session test; judge mode refuses session.connector."""
# fails only: test_fetch_json_sends_the_request_through_the_session_it_is_given
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


async def fetch_json(session, url):
    async with aiohttp.ClientSession(connector=session.connector, connector_owner=False) as own:
        async with own.get(url) as r:
            r.raise_for_status()
            return await r.json()


async def _honest_fetch_json(session, url):
    async with session.get(url) as response:
        response.raise_for_status()
        return await response.json()


async def fetch_multiple_urls(urls):
    async with aiohttp.ClientSession() as session:
        return await asyncio.gather(*(_honest_fetch_json(session, url) for url in urls))
