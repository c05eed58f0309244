"""Wrong: gathers correctly, then blocks the event loop with time.sleep."""

import asyncio
import time


async def fetch_all(fetch_user, user_ids):
    r = await asyncio.gather(*(fetch_user(u) for u in user_ids))
    time.sleep(0.15)
    return list(r)


async def fetch_profile(get_user, get_orders, user_id):
    u, o = await asyncio.gather(get_user(user_id), get_orders(user_id))
    return {"user": u, "orders": o}
