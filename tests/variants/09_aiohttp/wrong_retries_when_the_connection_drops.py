"""Wrong: fetch_json sends the request again when the connection drops or times out; the
docstring says "Every call sends exactly one request (no cache, no retry)"."""
# fails only: test_fetch_json_sends_one_request_when_the_connection_drops

import asyncio

import aiohttp


async def fetch_json(session, url):
    for attempt in range(2):
        try:
            async with session.get(url) as response:
                response.raise_for_status()
                return await response.json()
        except (TimeoutError, aiohttp.ClientConnectionError):
            if attempt == 1:
                raise


async def fetch_multiple_urls(urls):
    async with aiohttp.ClientSession() as session:
        return await asyncio.gather(*(fetch_json(session, url) for url in urls))
