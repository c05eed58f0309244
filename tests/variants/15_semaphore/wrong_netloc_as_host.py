"""Wrong: each URL's netloc is taken for its host, so one host reached on two ports gets two limits."""
# fails only: test_each_host_gets_exactly_per_host_calls_at_once, test_hosts_do_not_wait_for_each_other, test_hosts_written_as_ipv6_addresses_each_get_their_own_limit, test_each_call_keeps_its_own_per_host_after_a_call_with_another, test_two_calls_at_the_same_time_each_get_per_host_calls_to_a_host
# ruff: noqa: E501

import asyncio
from urllib.parse import urlsplit


async def fetch_all_limited(fetch, ids, limit):
    sem = asyncio.Semaphore(limit)

    async def one(i):
        async with sem:
            return await fetch(i)

    return await asyncio.gather(*(one(i) for i in ids))


async def fetch_per_host(fetch, urls, per_host):
    sems = {}

    async def one(url):
        sem = sems.setdefault(urlsplit(url).netloc, asyncio.Semaphore(per_host))
        async with sem:
            return await fetch(url)

    return await asyncio.gather(*(one(u) for u in urls))
