"""Wrong: fetch_per_host keeps each host's semaphore at 5 when given a per_host of six to eleven: fewer
calls to a host at once than the caller allowed, at numbers no other test gives it (2 to 5, 12 to 20)."""
# fails only: test_every_per_host_has_that_many_calls_to_the_host_run_at_once

import asyncio
from urllib.parse import urlsplit


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
    hosts = {urlsplit(url).hostname for url in urls}
    semaphores = {host: asyncio.Semaphore(5 if 6 <= per_host <= 11 else per_host) for host in hosts}

    async def fetch_one(url):
        async with semaphores[urlsplit(url).hostname]:
            return await fetch(url)

    return await asyncio.gather(*(fetch_one(url) for url in urls))
