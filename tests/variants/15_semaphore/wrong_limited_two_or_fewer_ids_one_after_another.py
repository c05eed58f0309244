"""Wrong: fetch_all_limited awaits the calls one after another when there are two ids or fewer (the
semaphore and gather only for more): two calls under a limit of 2 or more run one after another
(learner trial AA)."""
# fails only: test_two_ids_run_at_the_same_time_under_a_limit_of_two_or_more, test_a_list_of_any_size_within_its_limit_has_all_its_calls_run_at_the_same_time
# ruff: noqa: E501 (the line above names every test it fails)

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

    if len(ids) <= 2:
        return [await fetch(item_id) for item_id in ids]
    return await asyncio.gather(*(fetch_one(item_id) for item_id in ids))


# Task 2: a limit for each host
async def fetch_per_host(fetch, urls, per_host):
    """Call `await fetch(url)` for every URL in `urls`, at most `per_host` calls to one host at once.

    Each host has its own limit. Return the results in the same order as `urls`. A cancel
    from the caller stops it and every call to `fetch` it started: let it through, so
    that it ends cancelled with none of its calls still running.
    """
    hosts = {urlsplit(url).hostname for url in urls}
    semaphores = {host: asyncio.Semaphore(per_host) for host in hosts}

    async def fetch_one(url):
        async with semaphores[urlsplit(url).hostname]:
            return await fetch(url)

    return await asyncio.gather(*(fetch_one(url) for url in urls))
