"""Wrong: fetch_all_limited acquires and releases the semaphore by hand, and a call that raises
releases it twice (in `except Exception:` and again in `finally:`): after each error one more call
runs at once than `limit` allows, in the calls the error left running. The docstring's "at most
`limit` calls running at once" has no exception for errors."""
# fails only: test_a_failed_call_gives_back_its_slot_once_and_the_limit_still_holds

import asyncio
from urllib.parse import urlsplit


async def fetch_all_limited(fetch, ids, limit):
    semaphore = asyncio.Semaphore(limit)

    async def fetch_one(item_id):
        await semaphore.acquire()
        try:
            return await fetch(item_id)
        except Exception:
            semaphore.release()  # free the slot for the next id
            raise
        finally:
            semaphore.release()

    return await asyncio.gather(*(fetch_one(item_id) for item_id in ids))


async def fetch_per_host(fetch, urls, per_host):
    hosts = {urlsplit(url).hostname for url in urls}
    semaphores = {host: asyncio.Semaphore(per_host) for host in hosts}

    async def fetch_one(url):
        async with semaphores[urlsplit(url).hostname]:
            return await fetch(url)

    return await asyncio.gather(*(fetch_one(url) for url in urls))
