"""Correct: gather, with a watchdog task that logs a warning if the calls take over 5 s, cancelled
and awaited once they are done (a learner trial's answer; the old rule of no pending timer failed it)."""

import asyncio
import contextlib
import logging

log = logging.getLogger(__name__)


async def _warn_if_slow(count):
    await asyncio.sleep(5)
    log.warning("%d users are taking a while", count)


async def fetch_all(fetch_user, user_ids):
    watchdog = asyncio.create_task(_warn_if_slow(len(user_ids)))
    try:
        return list(await asyncio.gather(*(fetch_user(u) for u in user_ids)))
    finally:
        watchdog.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watchdog


async def fetch_profile(get_user, get_orders, user_id):
    user, orders = await asyncio.gather(get_user(user_id), get_orders(user_id))
    return {"user": user, "orders": orders}
