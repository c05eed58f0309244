"""Wrong: each call is awaited before the next one starts (sequential)."""


async def fetch_all(fetch_user, user_ids):
    return [await fetch_user(u) for u in user_ids]


async def fetch_profile(get_user, get_orders, user_id):
    return {"user": await get_user(user_id), "orders": await get_orders(user_id)}
