"""Wrong: fetch_all_limited keeps every result in a module-level dict and answers an id it has seen
before from it, without calling fetch: a second call gets the first call's answers, though fetch's
have changed (a red team's answer). No `# fails only:` line: the dict lives as long as the module,
so which other tests meet an id an earlier test fetched depends on the seed; the test that calls
fetch_all_limited twice with the same ids fails it on every seed."""

import asyncio
from urllib.parse import urlsplit

_known = {}  # id -> value, kept so that no id is fetched twice


# Task 1: at most `limit` calls at once
async def fetch_all_limited(fetch, ids, limit):
    """Call `await fetch(id)` for every id in `ids`, with at most `limit` calls running at once.

    Keep `limit` calls running while there are ids waiting: when one call finishes, the
    next one starts right away. Return the results in the same order as `ids`.
    """
    semaphore = asyncio.Semaphore(limit)

    async def fetch_one(item_id):
        if item_id in _known:
            return _known[item_id]
        async with semaphore:
            return await fetch(item_id)

    results = await asyncio.gather(*(fetch_one(item_id) for item_id in ids))
    _known.update(zip(ids, results, strict=True))
    return results


# Task 2: a limit for each host
async def fetch_per_host(fetch, urls, per_host):
    """Call `await fetch(url)` for every URL in `urls`, at most `per_host` calls to one host at once.

    Each host has its own limit. Return the results in the same order as `urls`.
    """
    hosts = {urlsplit(url).hostname for url in urls}
    semaphores = {host: asyncio.Semaphore(per_host) for host in hosts}

    async def fetch_one(url):
        async with semaphores[urlsplit(url).hostname]:
            return await fetch(url)

    return await asyncio.gather(*(fetch_one(url) for url in urls))
