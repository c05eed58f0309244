"""Mistake: an asyncio.wait loop that starts one new call per wake-up, however many calls ended."""

import asyncio
from urllib.parse import urlsplit


async def fetch_all_limited(fetch, ids, limit):
    results = [None] * len(ids)
    todo = list(enumerate(ids))
    running = {}

    def start():
        index, item_id = todo.pop(0)
        running[asyncio.create_task(fetch(item_id))] = index

    for _ in range(min(limit, len(todo))):
        start()
    while running:
        done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            results[running.pop(task)] = task.result()
        if todo:
            start()  # one new call, though several may have ended
    return results


async def fetch_per_host(fetch, urls, per_host):
    semaphores = {urlsplit(url).hostname: asyncio.Semaphore(per_host) for url in urls}

    async def fetch_one(url):
        async with semaphores[urlsplit(url).hostname]:
            return await fetch(url)

    return await asyncio.gather(*(fetch_one(url) for url in urls))
