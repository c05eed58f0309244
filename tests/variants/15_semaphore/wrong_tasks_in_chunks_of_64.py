"""Wrong: one shared semaphore, but the tasks are made and gathered 64 at a time ("not 5000 tasks at
once"): at the end of every chunk the slots empty while its slowest call runs. Breaks "when one
call finishes, the next one starts right away"."""
# Whether it also fails test_hosts_do_not_wait_for_each_other depends on the URLs drawn: no exact list.

import asyncio
from urllib.parse import urlsplit

CHUNK = 64


async def fetch_all_limited(fetch, ids, limit):
    semaphore = asyncio.Semaphore(limit)

    async def one(item_id):
        async with semaphore:
            return await fetch(item_id)

    results = []
    for start in range(0, len(ids), CHUNK):
        results += await asyncio.gather(*(one(i) for i in ids[start : start + CHUNK]))
    return results


async def fetch_per_host(fetch, urls, per_host):
    hosts = {urlsplit(u).hostname: asyncio.Semaphore(per_host) for u in urls}

    async def one(url):
        async with hosts[urlsplit(url).hostname]:
            return await fetch(url)

    results = []
    for start in range(0, len(urls), CHUNK):
        results += await asyncio.gather(*(one(u) for u in urls[start : start + CHUNK]))
    return results
