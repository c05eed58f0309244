"""Wrong: raises only for a status above 400, so a 400 Bad Request comes back as data."""
# fails only: test_fetch_json_raises_client_response_error_for_an_error_status[client_error_400], test_an_error_status_reaches_the_caller[client_error_400], test_fetch_json_raises_for_every_error_status_not_only_the_usual_ones
# ruff: noqa: E501 (the line above names long tests, and the self-check reads it as one line)

import asyncio

import aiohttp


async def fetch_json(session, url):
    async with session.get(url) as response:
        if response.status > 400:
            response.raise_for_status()
        return await response.json()


async def fetch_multiple_urls(urls):
    async with aiohttp.ClientSession() as session:
        return await asyncio.gather(*(fetch_json(session, url) for url in urls))
