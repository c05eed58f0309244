"""Correct: a TaskGroup, with the slot taken and given back by hand in try/finally."""

import asyncio
from collections import defaultdict
from urllib.parse import urlsplit


async def fetch_all_limited(fetch, ids, limit):
    semaphore = asyncio.Semaphore(limit)

    async def fetch_one(item_id):
        await semaphore.acquire()
        try:
            return await fetch(item_id)
        finally:
            semaphore.release()

    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(fetch_one(item_id)) for item_id in ids]
    return [task.result() for task in tasks]


async def fetch_per_host(fetch, urls, per_host):
    # Made on first use, inside the tasks: still one semaphore per host, shared.
    semaphores = defaultdict(lambda: asyncio.Semaphore(per_host))

    async def fetch_one(url):
        async with semaphores[urlsplit(url).hostname]:
            return await fetch(url)

    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(fetch_one(url)) for url in urls]
    return [task.result() for task in tasks]
