"""Wrong: the calls are made but never awaited, so coroutine objects come back."""


async def fetch_all(fetch_user, user_ids):
    return [fetch_user(u) for u in user_ids]


async def fetch_profile(get_user, get_orders, user_id):
    get_user(user_id)
    return {"user": 1, "orders": await get_orders(user_id)}
