"""Wrong: catches the error of a body that is not JSON and returns None in place of the data."""
# fails only: test_fetch_json_raises_when_the_body_is_not_json[html_page], test_fetch_json_raises_when_the_body_is_not_json[cut_short_json], test_fetch_json_raises_when_the_body_is_not_json[not_utf8], test_an_error_without_a_status_reaches_the_caller
# ruff: noqa: E501 (the line above names long tests, and the self-check reads it as one line)

import asyncio

import aiohttp


async def fetch_json(session, url):
    async with session.get(url) as response:
        response.raise_for_status()
        try:
            return await response.json()
        except Exception:
            return None


async def fetch_multiple_urls(urls):
    async with aiohttp.ClientSession() as session:
        return await asyncio.gather(*(fetch_json(session, url) for url in urls))
