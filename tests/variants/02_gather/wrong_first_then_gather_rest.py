"""fetch_all awaits the first call on its own, then gathers the rest."""

import asyncio


async def fetch_all(fetch_user, user_ids):
    if not user_ids:
        return []
    first = await fetch_user(user_ids[0])
    rest = await asyncio.gather(*(fetch_user(uid) for uid in user_ids[1:]))
    return [first, *rest]


async def fetch_profile(get_user, get_orders, user_id):
    user, orders = await asyncio.gather(get_user(user_id), get_orders(user_id))
    return {"user": user, "orders": orders}
