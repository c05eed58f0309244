"""Wrong: the semaphore is Semaphore(min(limit, 8)) "so we never flood anyone": a limit of 12 keeps
only 8 in flight. Breaks "with at most `limit` calls running at once ... Keep `limit` calls running
while there are ids waiting"."""
# fails only: test_a_large_limit_keeps_every_slot_busy_through_many_ids, test_a_large_per_host_keeps_that_many_calls_to_each_host_in_flight, test_a_list_of_any_size_within_its_limit_has_all_its_calls_run_at_the_same_time, test_every_limit_has_that_many_calls_run_at_once, test_every_per_host_has_that_many_calls_to_the_host_run_at_once
# ruff: noqa: E501

import asyncio
from urllib.parse import urlsplit

SAFE_MAX = 8


async def fetch_all_limited(fetch, ids, limit):
    semaphore = asyncio.Semaphore(min(limit, SAFE_MAX))

    async def one(item_id):
        async with semaphore:
            return await fetch(item_id)

    return await asyncio.gather(*(one(i) for i in ids))


async def fetch_per_host(fetch, urls, per_host):
    hosts = {urlsplit(u).hostname: asyncio.Semaphore(min(per_host, SAFE_MAX)) for u in urls}

    async def one(url):
        async with hosts[urlsplit(url).hostname]:
            return await fetch(url)

    return await asyncio.gather(*(one(u) for u in urls))
