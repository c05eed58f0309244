"""Wrong: fetch_per_host takes the host as `urlsplit(url).netloc.split(":")[0].lower()`, which keeps a
user part ("user7@api.test", or "user7" for "user7:secret@api.test"): each such URL gets a limit of
its own. The docstring says "The host of a URL is `urllib.parse.urlsplit(url).hostname`" (a red
team's answer)."""
# fails only: test_each_host_gets_exactly_per_host_calls_at_once, test_hosts_do_not_wait_for_each_other, test_hosts_written_as_ipv6_addresses_each_get_their_own_limit, test_each_call_keeps_its_own_per_host_after_a_call_with_another, test_two_calls_at_the_same_time_each_get_per_host_calls_to_a_host
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio
from urllib.parse import urlsplit


# Task 1: at most `limit` calls at once
async def fetch_all_limited(fetch, ids, limit):
    """Call `await fetch(id)` for every id in `ids`, with at most `limit` calls running at once.

    Keep `limit` calls running while there are ids waiting: when one call finishes, the
    next one starts right away. Return the results in the same order as `ids`.
    """
    semaphore = asyncio.Semaphore(limit)

    async def fetch_one(item_id):
        async with semaphore:
            return await fetch(item_id)

    return await asyncio.gather(*(fetch_one(item_id) for item_id in ids))


# Task 2: a limit for each host
async def fetch_per_host(fetch, urls, per_host):
    """Call `await fetch(url)` for every URL in `urls`, at most `per_host` calls to one host at once.

    Each host has its own limit. Return the results in the same order as `urls`.
    """
    hosts = {urlsplit(url).netloc.split(":")[0].lower() for url in urls}
    semaphores = {host: asyncio.Semaphore(per_host) for host in hosts}

    async def fetch_one(url):
        async with semaphores[urlsplit(url).netloc.split(":")[0].lower()]:
            return await fetch(url)

    return await asyncio.gather(*(fetch_one(url) for url in urls))
