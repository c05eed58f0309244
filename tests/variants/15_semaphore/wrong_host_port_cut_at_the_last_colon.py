"""Wrong: fetch_per_host cuts the port off the netloc at its last ":" whenever it holds one. Right for
host names, but an IPv6 address without a port ("[2001:db8::1f]") loses its last part: the address
with and without a port gets two limits, and two addresses of one network share one. The docstring
says "The host of a URL is `urllib.parse.urlsplit(url).hostname`" (the class a red team found)."""
# fails only: test_hosts_written_as_ipv6_addresses_each_get_their_own_limit

import asyncio


def host_of(url):
    """The host, split from the URL's text by hand: user part cut off, then the port after the last ':'."""
    netloc = url.split("/")[2].rpartition("@")[2]
    if ":" in netloc:
        netloc = netloc.rsplit(":", 1)[0]
    return netloc.lower()


# Task 1: at most `limit` calls at once
async def fetch_all_limited(fetch, ids, limit):
    """Call `await fetch(id)` for every id in `ids`, with at most `limit` calls running at once.

    Keep `limit` calls running while there are ids waiting: when one call finishes, the
    next one starts right away. Return the results in the same order as `ids`. A cancel
    from the caller stops it and every call to `fetch` it started: let it through, so
    that it ends cancelled with none of its calls still running.
    """
    semaphore = asyncio.Semaphore(limit)

    async def fetch_one(item_id):
        async with semaphore:
            return await fetch(item_id)

    return await asyncio.gather(*(fetch_one(item_id) for item_id in ids))


# Task 2: a limit for each host
async def fetch_per_host(fetch, urls, per_host):
    """Call `await fetch(url)` for every URL in `urls`, at most `per_host` calls to one host at once.

    Each host has its own limit. Return the results in the same order as `urls`. A cancel
    from the caller stops it and every call to `fetch` it started: let it through, so
    that it ends cancelled with none of its calls still running.
    """
    hosts = {host_of(url) for url in urls}
    semaphores = {host: asyncio.Semaphore(per_host) for host in hosts}

    async def fetch_one(url):
        async with semaphores[host_of(url)]:
            return await fetch(url)

    return await asyncio.gather(*(fetch_one(url) for url in urls))
