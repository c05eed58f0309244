"""Wrong: fetch_per_host keeps a running count per host and checks it every 10 ms while the host is
full (Task 1 is right): it wakes 100 times a second while it waits, instead of sleeping until a slot
of the host frees."""
# fails only: test_calls_waiting_for_their_host_sleep_until_a_slot_frees

import asyncio
from collections import Counter
from urllib.parse import urlsplit


async def fetch_all_limited(fetch, ids, limit):
    semaphore = asyncio.Semaphore(limit)

    async def one(item_id):
        async with semaphore:
            return await fetch(item_id)

    return await asyncio.gather(*(one(i) for i in ids))


async def fetch_per_host(fetch, urls, per_host):
    running = Counter()

    async def one(url):
        host = urlsplit(url).hostname
        while running[host] >= per_host:
            await asyncio.sleep(0.01)
        running[host] += 1
        try:
            return await fetch(url)
        finally:
            running[host] -= 1

    return await asyncio.gather(*(one(u) for u in urls))
