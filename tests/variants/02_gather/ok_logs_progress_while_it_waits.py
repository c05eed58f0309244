"""Correct: the calls awaited with `asyncio.wait(pending, timeout=1)` in a loop that logs how many
are still running: the timeout only wakes it to log (a learner trial's answer; the old rule of
no pending timer failed it)."""

import asyncio
import logging

log = logging.getLogger(__name__)


async def fetch_all(fetch_user, user_ids):
    tasks = [asyncio.create_task(fetch_user(u)) for u in user_ids]
    try:
        pending = set(tasks)
        while pending:
            done, pending = await asyncio.wait(pending, timeout=1.0, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                if task.exception() is not None:
                    raise task.exception()
            if pending:
                log.info("%d of %d users still loading", len(pending), len(tasks))
        return [t.result() for t in tasks]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def fetch_profile(get_user, get_orders, user_id):
    user, orders = await asyncio.gather(get_user(user_id), get_orders(user_id))
    return {"user": user, "orders": orders}
