"""Wrong: fetch_all_limited is right, and fetch_per_host makes each host's semaphore
Semaphore(min(per_host, 10)), "no server wants more than 10 at once": a per_host of 12 keeps only
10 calls to a host in flight. `per_host` is the caller's to choose: breaks "at most `per_host` calls
to one host at once" read with task 1's "keep `limit` calls running while there are ids waiting"
(a learner trial's cap, min(limit, 8), on task 2 alone)."""
# fails only: test_a_large_per_host_keeps_that_many_calls_to_each_host_in_flight, test_every_per_host_has_that_many_calls_to_the_host_run_at_once
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio
from urllib.parse import urlsplit

MOST_A_SERVER_WANTS = 10


async def fetch_all_limited(fetch, ids, limit):
    semaphore = asyncio.Semaphore(limit)

    async def one(item_id):
        async with semaphore:
            return await fetch(item_id)

    return await asyncio.gather(*(one(i) for i in ids))


async def fetch_per_host(fetch, urls, per_host):
    cap = min(per_host, MOST_A_SERVER_WANTS)
    hosts = {urlsplit(u).hostname: asyncio.Semaphore(cap) for u in urls}

    async def one(url):
        async with hosts[urlsplit(url).hostname]:
            return await fetch(url)

    return await asyncio.gather(*(one(u) for u in urls))
