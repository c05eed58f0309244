"""Wrong: fetches the URLs in batches of 5, each batch after the one before, not all at the same time."""
# fails only: test_every_request_is_sent_before_any_reply_comes, test_every_url_is_fetched_at_the_same_time[many_urls], test_a_list_of_any_size_has_all_its_urls_fetched_at_the_same_time
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio

import aiohttp


async def fetch_json(session, url):
    async with session.get(url) as response:
        response.raise_for_status()
        return await response.json()


async def fetch_multiple_urls(urls):
    results = []
    async with aiohttp.ClientSession() as session:
        for start in range(0, len(urls), 5):
            results += await asyncio.gather(*(fetch_json(session, url) for url in urls[start : start + 5]))
    return results
