"""Correct: fetch_all_limited awaits its tasks in a wait loop with a 1 s timeout that logs how
many are left; fetch_per_host warns after 5 s (`loop.call_later`), cancelled in finally.
"""

import asyncio
import logging
from urllib.parse import urlsplit

log = logging.getLogger(__name__)


async def fetch_all_limited(fetch, ids, limit):
    semaphore = asyncio.Semaphore(limit)

    async def fetch_one(item_id):
        async with semaphore:
            return await fetch(item_id)

    tasks = [asyncio.create_task(fetch_one(item_id)) for item_id in ids]
    try:
        pending = set(tasks)
        while pending:
            done, pending = await asyncio.wait(pending, timeout=1.0, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                if not task.cancelled() and task.exception() is not None:
                    raise task.exception()
            if pending:
                log.info("fetch_all_limited: %d of %d calls left", len(pending), len(tasks))
        return [task.result() for task in tasks]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def fetch_per_host(fetch, urls, per_host):
    semaphores = {host: asyncio.Semaphore(per_host) for host in {urlsplit(url).hostname for url in urls}}

    async def fetch_one(url):
        async with semaphores[urlsplit(url).hostname]:
            return await fetch(url)

    handle = asyncio.get_running_loop().call_later(5, log.warning, "fetch_per_host: slow")
    try:
        return await asyncio.gather(*(fetch_one(url) for url in urls))
    finally:
        handle.cancel()
