"""Wrong: results are stored in a dict keyed by id (and URL) and read back in order: a repeated id is
fetched each time, but both places get the LAST answer. Breaks "Return the results in the same
order as `ids`" (fetch may answer differently each time)."""
# fails only: test_a_repeated_id_is_fetched_each_time_it_appears, test_every_url_is_fetched_each_time_it_appears_and_results_come_back_in_order
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio
from urllib.parse import urlsplit


async def fetch_all_limited(fetch, ids, limit):
    semaphore = asyncio.Semaphore(limit)
    found = {}

    async def one(item_id):
        async with semaphore:
            found[item_id] = await fetch(item_id)

    await asyncio.gather(*(one(i) for i in ids))
    return [found[i] for i in ids]


async def fetch_per_host(fetch, urls, per_host):
    hosts = {urlsplit(u).hostname: asyncio.Semaphore(per_host) for u in urls}
    found = {}

    async def one(url):
        async with hosts[urlsplit(url).hostname]:
            found[url] = await fetch(url)

    await asyncio.gather(*(one(u) for u in urls))
    return [found[u] for u in urls]
