"""Correct: fetch_all logs its progress every 0.05 s from a `loop.call_later` callback that sets itself
again, cancelled at the end; the waiting itself is one gather. A timer that only logs, faster than
the calls: its runs are not polls."""

import asyncio
import logging

log = logging.getLogger(__name__)


async def fetch_all(fetch_user, user_ids):
    # progress ticker as a plain timer callback, cancelled at the end
    loop = asyncio.get_running_loop()
    handle = None

    def tick():
        nonlocal handle
        log.debug("fetch_all: still waiting for %d users", len(user_ids))
        handle = loop.call_later(0.05, tick)

    handle = loop.call_later(0.05, tick)
    try:
        return list(await asyncio.gather(*(fetch_user(u) for u in user_ids)))
    finally:
        handle.cancel()


async def fetch_profile(get_user, get_orders, user_id):
    user, orders = await asyncio.gather(get_user(user_id), get_orders(user_id))
    return {"user": user, "orders": orders}
