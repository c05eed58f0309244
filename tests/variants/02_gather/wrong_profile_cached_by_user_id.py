"""Wrong: fetch_profile keeps each profile in a module-level dict keyed by user_id, and returns it
again for the same user: a second call never asks get_user and get_orders, and gives the first
call's answers, however they have changed since (a red team's answer)."""
# fails only: test_a_second_profile_asks_both_services_afresh

import asyncio

_profiles = {}


async def fetch_all(fetch_user, user_ids):
    return list(await asyncio.gather(*(fetch_user(user_id) for user_id in user_ids)))


async def fetch_profile(get_user, get_orders, user_id):
    if user_id not in _profiles:
        user, orders = await asyncio.gather(get_user(user_id), get_orders(user_id))
        _profiles[user_id] = {"user": user, "orders": orders}
    return _profiles[user_id]
