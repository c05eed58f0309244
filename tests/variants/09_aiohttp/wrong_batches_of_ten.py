"""Wrong: fetches the URLs in batches of 10, each batch waiting for its slowest request: not
"every URL in `urls` at the same time" once there are more than 10."""
# fails only: test_every_request_is_sent_before_any_reply_comes, test_a_list_of_any_size_has_all_its_urls_fetched_at_the_same_time
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio

import aiohttp

BATCH = 10


async def fetch_json(session, url):
    async with session.get(url) as response:
        response.raise_for_status()
        return await response.json()


async def fetch_multiple_urls(urls):
    results = []
    async with aiohttp.ClientSession() as session:
        for start in range(0, len(urls), BATCH):
            batch = urls[start : start + BATCH]
            results += await asyncio.gather(*(fetch_json(session, u) for u in batch))
    return results
