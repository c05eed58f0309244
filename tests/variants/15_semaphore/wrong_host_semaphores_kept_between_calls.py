"""Wrong: the hosts' semaphores live in a module-level dict, filled once per host: a later call
with another per_host keeps the old limit, and calls at the same time share the slots (a learner
trial's answer)."""
# fails only: test_each_call_keeps_its_own_per_host_after_a_call_with_another, test_two_calls_at_the_same_time_each_get_per_host_calls_to_a_host, test_every_per_host_has_that_many_calls_to_the_host_run_at_once
# ruff: noqa: E501

import asyncio
from urllib.parse import urlsplit

_HOST_SEMAPHORES = {}


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
    for host in {urlsplit(url).hostname for url in urls}:
        _HOST_SEMAPHORES.setdefault(host, asyncio.Semaphore(per_host))
    semaphores = _HOST_SEMAPHORES

    async def fetch_one(url):
        async with semaphores[urlsplit(url).hostname]:
            return await fetch(url)

    return await asyncio.gather(*(fetch_one(url) for url in urls))
