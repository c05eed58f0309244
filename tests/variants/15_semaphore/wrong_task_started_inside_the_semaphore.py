"""Mistake: only starting the task is inside the semaphore; the task runs (and is awaited) outside it."""

import asyncio
from urllib.parse import urlsplit


async def fetch_all_limited(fetch, ids, limit):
    semaphore = asyncio.Semaphore(limit)
    tasks = []
    for item_id in ids:
        async with semaphore:
            tasks.append(asyncio.create_task(fetch(item_id)))
    return [await task for task in tasks]


async def fetch_per_host(fetch, urls, per_host):
    semaphores = {urlsplit(url).hostname: asyncio.Semaphore(per_host) for url in urls}
    tasks = []
    for url in urls:
        async with semaphores[urlsplit(url).hostname]:
            tasks.append(asyncio.create_task(fetch(url)))
    return [await task for task in tasks]
