"""Correct: each function runs under a heartbeat task that logs every 0.1 s, cancelled and awaited at
the end; the waiting itself (for the calls, and for the tasks it cancelled) is on the tasks. Its
wake-ups are the heartbeat's, not a poll: the tests of stopping must tell the two apart."""

import asyncio
import contextlib
import logging

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


async def load_dashboard(fetch_news, fetch_user, fetch_inbox, user_id):
    async with heartbeat("dashboard"):
        news_task = asyncio.create_task(fetch_news())
        try:
            user = await fetch_user(user_id)
            inbox = await fetch_inbox(user["inbox_id"])
            news = await news_task
        finally:
            if not news_task.done():
                news_task.cancel()
                await asyncio.wait([news_task])
    return {"user": user, "inbox": inbox, "news": news}


async def start_downloads(download, urls):
    return [asyncio.create_task(download(url)) for url in urls]


async def save_order(save, audit, order_id):
    async with heartbeat("save_order"):
        audit_task = asyncio.create_task(audit(order_id))
        try:
            receipt = await save(order_id)
            await audit_task
        finally:
            if not audit_task.done():
                audit_task.cancel()
                await asyncio.wait([audit_task])
    return receipt
