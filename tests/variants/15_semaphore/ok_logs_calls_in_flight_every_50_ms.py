"""Correct: a learner's own answer whose fetch_all_limited logs how many calls are in flight every
0.05 s from a task cancelled and awaited at the end; the slots are one Semaphore. The log's wake-ups
are no poll for a free slot."""

import asyncio
import contextlib
import logging
from urllib.parse import urlsplit

log = logging.getLogger(__name__)


async def fetch_all_limited(fetch, ids, limit):
    sem = asyncio.Semaphore(limit)
    in_flight = 0

    async def fetch_one(item_id):
        nonlocal in_flight
        async with sem:
            in_flight += 1
            log.debug("start %r (%d in flight)", item_id, in_flight)
            try:
                return await fetch(item_id)
            finally:
                in_flight -= 1

    async def heartbeat():
        while True:
            await asyncio.sleep(0.05)
            log.debug("%d in flight", in_flight)

    beat = asyncio.create_task(heartbeat())
    try:
        return list(await asyncio.gather(*(fetch_one(i) for i in ids)))
    finally:
        beat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beat


async def fetch_per_host(fetch, urls, per_host):
    sems = {}

    async def one(url):
        host = urlsplit(url).hostname
        sem = sems.setdefault(host, asyncio.Semaphore(per_host))
        async with sem:
            return await fetch(url)

    return await asyncio.gather(*map(one, urls))
