"""fetch_all gives each call 5 s (`asyncio.wait_for(fetch_user(u), 5)`): the docstring gives no time
limit, and a slower service makes it fail for nothing. No test waits 5 s: the test makes the
limit run out early, while the calls still run."""

# fails only: test_every_call_runs_at_the_same_time[many_ids], test_every_call_runs_at_the_same_time[two_ids]

import asyncio


async def fetch_all(fetch_user, user_ids):
    return list(await asyncio.gather(*(asyncio.wait_for(fetch_user(u), 5) for u in user_ids)))


async def fetch_profile(get_user, get_orders, user_id):
    user, orders = await asyncio.gather(get_user(user_id), get_orders(user_id))
    return {"user": user, "orders": orders}
