"""Correct: a BoundedSemaphore, tasks made with create_task and awaited with asyncio.wait, and
cancelled and waited for in a `finally:` (a cancel from the caller stops them)."""

import asyncio
from urllib.parse import urlsplit


async def fetch_all_limited(fetch, ids, limit):
    semaphore = asyncio.BoundedSemaphore(limit)

    async def fetch_one(item_id):
        async with semaphore:
            return await fetch(item_id)

    if not ids:
        return []
    tasks = [asyncio.create_task(fetch_one(item_id)) for item_id in ids]
    try:
        await asyncio.wait(tasks)
    finally:  # cancelled (or done), no task is left running
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return [task.result() for task in tasks]


async def fetch_per_host(fetch, urls, per_host):
    semaphores = {}
    for url in urls:
        semaphores.setdefault(urlsplit(url).hostname, asyncio.BoundedSemaphore(per_host))

    async def fetch_one(url):
        async with semaphores[urlsplit(url).hostname]:
            return await fetch(url)

    if not urls:
        return []
    tasks = [asyncio.create_task(fetch_one(url)) for url in urls]
    try:
        await asyncio.wait(tasks)
    finally:  # cancelled (or done), no task is left running
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return [task.result() for task in tasks]
