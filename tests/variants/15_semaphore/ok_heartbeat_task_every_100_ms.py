"""Correct: the reference, with fetch_per_host under a heartbeat task that logs every 0.1 s, cancelled
and awaited at the end. Its wake-ups while calls wait for their host are the heartbeat's, not a
poll for a free slot."""

import asyncio
import contextlib as _contextlib
import logging as _logging
from urllib.parse import urlsplit


# Task 1: at most `limit` calls at once
async def fetch_all_limited(fetch, ids, limit):
    """Call `await fetch(id)` for every id in `ids`, with at most `limit` calls running at once.

    Keep `limit` calls running while there are ids waiting: when one call finishes, the
    next one starts right away. Return the results in the same order as `ids`. A cancel
    from the caller stops it and every call to `fetch` it started: let it through, so
    that it ends cancelled with none of its calls still running.
    """
    semaphore = asyncio.Semaphore(limit)

    async def fetch_one(item_id):
        async with semaphore:
            return await fetch(item_id)

    return await asyncio.gather(*(fetch_one(item_id) for item_id in ids))


# Task 2: a limit for each host
async def fetch_per_host(fetch, urls, per_host):
    """Call `await fetch(url)` for every URL in `urls`, at most `per_host` calls to one host at once.

    Each host has its own limit. Return the results in the same order as `urls`. A cancel
    from the caller stops it and every call to `fetch` it started: let it through, so
    that it ends cancelled with none of its calls still running.
    """
    async with heartbeat("fetch_per_host"):
        hosts = {urlsplit(url).hostname for url in urls}
        semaphores = {host: asyncio.Semaphore(per_host) for host in hosts}

        async def fetch_one(url):
            async with semaphores[urlsplit(url).hostname]:
                return await fetch(url)

        return await asyncio.gather(*(fetch_one(url) for url in urls))


# --- a progress heartbeat, started and cancelled around the work ---

_hb_log = _logging.getLogger("progress")


@_contextlib.asynccontextmanager
async def heartbeat(what, every=0.1):
    async def beat():
        n = 0
        while True:
            await asyncio.sleep(every)
            n += 1
            _hb_log.debug("%s still running (%d)", what, n)

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
