"""Correct: fetch_multiple_urls keeps a heartbeat task that logs every 0.1 s, cancelled and awaited at
the end; the waiting itself is a gather. Its wake-ups are the heartbeat's, not a poll of the
requests."""

import asyncio
import contextlib
import logging

import aiohttp

_log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def heartbeat(label, every=0.1):
    async def beat():
        while True:
            await asyncio.sleep(every)
            _log.debug("%s: still working", label)

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        await asyncio.wait([task])


async def fetch_json(session, url):
    async with session.get(url) as response:
        response.raise_for_status()
        return await response.json()


async def fetch_multiple_urls(urls):
    async with heartbeat("fetch_multiple_urls"), aiohttp.ClientSession() as session:
        return await asyncio.gather(*(fetch_json(session, url) for url in urls))
