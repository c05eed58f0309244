"""Wrong: the host is taken as the last two labels of the hostname ("the domain"), so api.shop.test
and cdn.shop.test share one limit. Breaks "The host of a URL is
`urllib.parse.urlsplit(url).hostname`"."""
# fails only: test_hosts_do_not_wait_for_each_other

import asyncio
from urllib.parse import urlsplit


def host_of(url):
    return ".".join(urlsplit(url).hostname.split(".")[-2:])


async def fetch_all_limited(fetch, ids, limit):
    semaphore = asyncio.Semaphore(limit)

    async def one(item_id):
        async with semaphore:
            return await fetch(item_id)

    return await asyncio.gather(*(one(i) for i in ids))


async def fetch_per_host(fetch, urls, per_host):
    hosts = {host_of(u): asyncio.Semaphore(per_host) for u in urls}

    async def one(url):
        async with hosts[host_of(url)]:
            return await fetch(url)

    return await asyncio.gather(*(one(u) for u in urls))
