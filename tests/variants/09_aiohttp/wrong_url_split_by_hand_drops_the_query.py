"""Wrong: fetch_json takes the URL apart by hand and puts back only its scheme, host and path: the
query string is lost, so the server is asked for another URL than "GET `url`"."""
# fails only: test_fetch_json_asks_for_exactly_the_url_it_is_given, test_results_come_back_in_the_order_of_the_urls
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio

import aiohttp


async def fetch_json(session, url):
    scheme, rest = url.split("://", 1)
    host, _, path = rest.partition("/")
    path = path.split("?")[0].split("#")[0]
    async with session.get(f"{scheme}://{host}/{path}") as response:
        response.raise_for_status()
        return await response.json()


async def fetch_multiple_urls(urls):
    async with aiohttp.ClientSession() as session:
        return await asyncio.gather(*(fetch_json(session, url) for url in urls))
