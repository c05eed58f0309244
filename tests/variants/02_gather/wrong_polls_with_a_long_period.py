"""fetch_all checks every half second whether its tasks are done: it sleeps through the stretch a
test watches, but learns that the calls have ended only at its next check."""

# fails only: test_every_call_runs_at_the_same_time[many_ids], test_every_call_runs_at_the_same_time[two_ids]

import asyncio


async def fetch_all(fetch_user, user_ids):
    tasks = [asyncio.create_task(fetch_user(u)) for u in user_ids]
    while not all(t.done() for t in tasks):
        await asyncio.sleep(0.5)
    return [t.result() for t in tasks]


async def fetch_profile(get_user, get_orders, user_id):
    user, orders = await asyncio.gather(get_user(user_id), get_orders(user_id))
    return {"user": user, "orders": orders}
