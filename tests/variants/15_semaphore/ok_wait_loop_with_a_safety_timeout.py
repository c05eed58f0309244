"""Correct (was recorded wrong until 2026-12-05): an asyncio.wait(FIRST_COMPLETED, timeout=5) loop
refills the slots, the timeout a "safety" one. It wakes the moment a call ends; the timeout only
makes it look again, and never gives up: judged by what its timer does (kata.testing.own_timers),
it is a progress log without the log. A short period would wake in the stretch a test watches."""

import asyncio
from urllib.parse import urlsplit


async def fetch_all_limited(fetch, ids, limit):
    results = [None] * len(ids)
    todo = list(enumerate(ids))
    todo.reverse()
    running = {}

    def start():
        index, item_id = todo.pop()
        running[asyncio.create_task(fetch(item_id))] = index

    try:
        while todo and len(running) < limit:
            start()
        while running:
            done, _ = await asyncio.wait(running, timeout=5, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                results[running.pop(task)] = task.result()
            while todo and len(running) < limit:
                start()
    finally:
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
    return results


async def fetch_per_host(fetch, urls, per_host):
    hosts = {}
    for url in urls:
        hosts.setdefault(urlsplit(url).hostname, asyncio.Semaphore(per_host))

    async def one(url):
        async with hosts[urlsplit(url).hostname]:
            return await fetch(url)

    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(one(u)) for u in urls]
    return [t.result() for t in tasks]
