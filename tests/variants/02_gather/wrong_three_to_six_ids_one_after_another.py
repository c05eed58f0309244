"""Wrong: fetch_all awaits the calls one after another for three to six ids only, and gathers them for
every other size: sizes no other test draws (red team W3)."""
# fails only: test_a_list_of_any_size_has_all_its_calls_run_at_the_same_time

import asyncio


async def fetch_all(fetch_user, user_ids):
    if 3 <= len(user_ids) <= 6:
        return [await fetch_user(uid) for uid in user_ids]
    return list(await asyncio.gather(*(fetch_user(uid) for uid in user_ids)))


async def fetch_profile(get_user, get_orders, user_id):
    user, orders = await asyncio.gather(get_user(user_id), get_orders(user_id))
    return {"user": user, "orders": orders}
