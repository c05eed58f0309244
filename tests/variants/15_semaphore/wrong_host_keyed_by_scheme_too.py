"""Wrong: fetch_per_host keys its semaphores by (scheme, hostname), so http://api.test/ and
https://api.test/ get a limit each and one host runs `per_host` calls at once twice over. The
docstring says the host of a URL is `urlsplit(url).hostname`: the scheme is no part of it."""
# fails only: test_each_host_gets_exactly_per_host_calls_at_once, test_hosts_do_not_wait_for_each_other, test_hosts_written_as_ipv6_addresses_each_get_their_own_limit, test_each_call_keeps_its_own_per_host_after_a_call_with_another, test_two_calls_at_the_same_time_each_get_per_host_calls_to_a_host
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio
from urllib.parse import urlsplit


async def fetch_all_limited(fetch, ids, limit):
    semaphore = asyncio.Semaphore(limit)

    async def fetch_one(item_id):
        async with semaphore:
            return await fetch(item_id)

    return await asyncio.gather(*(fetch_one(item_id) for item_id in ids))


async def fetch_per_host(fetch, urls, per_host):
    def key(url):
        parts = urlsplit(url)
        return parts.scheme, parts.hostname

    semaphores = {key(url): asyncio.Semaphore(per_host) for url in urls}

    async def fetch_one(url):
        async with semaphores[key(url)]:
            return await fetch(url)

    return await asyncio.gather(*(fetch_one(url) for url in urls))
