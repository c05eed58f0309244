"""Wrong: fetch_all gathers with return_exceptions=True, so a failed call's error comes back in the
list as if it were a user's record, and never reaches the caller."""
# fails only: test_a_failing_call_makes_fetch_all_raise_its_error

import asyncio


async def fetch_all(fetch_user, user_ids):
    return list(await asyncio.gather(*(fetch_user(user_id) for user_id in user_ids), return_exceptions=True))


async def fetch_profile(get_user, get_orders, user_id):
    user, orders = await asyncio.gather(get_user(user_id), get_orders(user_id))
    return {"user": user, "orders": orders}
