"""Correct: fetch_all keeps a heartbeat task that logs every 0.05 s (a sleep in a loop), cancelled and
awaited at the end; the waiting itself is one gather. Its wake-ups are the heartbeat's, not a poll
of the calls."""

import asyncio
import contextlib
import logging

log = logging.getLogger(__name__)


async def _heartbeat(label, every=0.05):
    while True:
        await asyncio.sleep(every)
        log.debug("%s still waiting", label)


async def fetch_all(fetch_user, user_ids):
    beat = asyncio.create_task(_heartbeat("fetch_all"))
    try:
        return list(await asyncio.gather(*map(fetch_user, user_ids)))
    finally:
        beat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beat


async def fetch_profile(get_user, get_orders, user_id):
    user_f = asyncio.ensure_future(get_user(user_id))
    orders = await get_orders(user_id)
    user = await user_f
    return {"user": user, "orders": orders}
