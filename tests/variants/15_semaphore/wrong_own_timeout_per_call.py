"""Wrong: each call is wrapped in asyncio.wait_for(..., 5): a fetch slower than 5 s is cut off and the
whole call raises TimeoutError; the docstring gives no time limit."""
# fails only: test_waiting_calls_sleep_until_a_slot_frees, test_calls_waiting_for_their_host_sleep_until_a_slot_frees
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio
from urllib.parse import urlsplit

CALL_TIMEOUT = 5


async def fetch_all_limited(fetch, ids, limit):
    semaphore = asyncio.Semaphore(limit)

    async def one(item_id):
        async with semaphore:
            return await asyncio.wait_for(fetch(item_id), CALL_TIMEOUT)

    return await asyncio.gather(*(one(i) for i in ids))


async def fetch_per_host(fetch, urls, per_host):
    hosts = {urlsplit(u).hostname: asyncio.Semaphore(per_host) for u in urls}

    async def one(url):
        async with hosts[urlsplit(url).hostname]:
            return await asyncio.wait_for(fetch(url), CALL_TIMEOUT)

    return await asyncio.gather(*(one(u) for u in urls))
