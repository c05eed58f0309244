"""Wrong: fetch_per_host has a semaphore per host plus one overall cap of 10 calls "to be polite":
with 6 hosts of 4 or 5 calls each, hosts wait for each other. Breaks "while one host has `per_host`
calls running, calls to the other hosts go on"."""
# fails only: test_a_large_per_host_keeps_that_many_calls_to_each_host_in_flight, test_hosts_do_not_wait_for_each_other, test_every_per_host_has_that_many_calls_to_the_host_run_at_once
# ruff: noqa: E501

import asyncio
from urllib.parse import urlsplit

MAX_TOTAL = 10


async def fetch_all_limited(fetch, ids, limit):
    semaphore = asyncio.Semaphore(limit)

    async def one(item_id):
        async with semaphore:
            return await fetch(item_id)

    return await asyncio.gather(*(one(i) for i in ids))


async def fetch_per_host(fetch, urls, per_host):
    total = asyncio.Semaphore(MAX_TOTAL)
    hosts = {urlsplit(u).hostname: asyncio.Semaphore(per_host) for u in urls}

    async def one(url):
        async with hosts[urlsplit(url).hostname], total:
            return await fetch(url)

    return await asyncio.gather(*(one(u) for u in urls))
