"""Wrong: gathers the two calls, then puts each answer under the other's key."""

import asyncio


async def fetch_all(fetch_user, user_ids):
    return list(await asyncio.gather(*(fetch_user(u) for u in user_ids)))


async def fetch_profile(get_user, get_orders, user_id):
    orders, user = await asyncio.gather(get_user(user_id), get_orders(user_id))
    return {"user": user, "orders": orders}
