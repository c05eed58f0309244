"""Correct: the requests awaited in a wait loop with a 1 s timeout that logs how many are still
out: a progress log, not a time limit.
"""

import asyncio
import logging

import aiohttp

log = logging.getLogger(__name__)


async def fetch_json(session, url):
    async with session.get(url) as response:
        response.raise_for_status()
        return await response.json()


async def fetch_multiple_urls(urls):
    async with aiohttp.ClientSession() as session:
        tasks = [asyncio.create_task(fetch_json(session, url)) for url in urls]
        try:
            pending = set(tasks)
            while pending:
                done, pending = await asyncio.wait(pending, timeout=1.0, return_when=asyncio.FIRST_EXCEPTION)
                for task in done:
                    if not task.cancelled() and task.exception() is not None:
                        raise task.exception()
                if pending:
                    log.info("fetch_multiple_urls: %d of %d requests still out", len(pending), len(tasks))
            return [task.result() for task in tasks]
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
