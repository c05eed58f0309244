"""Wrong: fetch_profile awaits each task the moment it creates it, so the second starts after the first."""

import asyncio


async def fetch_all(fetch_user, user_ids):
    return await asyncio.gather(*(fetch_user(u) for u in user_ids))


async def fetch_profile(get_user, get_orders, user_id):
    user = await asyncio.create_task(get_user(user_id))
    orders = await asyncio.create_task(get_orders(user_id))
    return {"user": user, "orders": orders}
