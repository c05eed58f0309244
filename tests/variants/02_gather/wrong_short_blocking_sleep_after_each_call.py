"""Wrong: fetch_all sleeps 5 ms with time.sleep after starting each call: a blocking call in
async code, far too short for the loop guard's 0.1 s limit to see as a frozen loop."""

import asyncio
import time


# Task 1: fetch every user at once
async def fetch_all(fetch_user, user_ids):
    """Call `await fetch_user(user_id)` for every id in `user_ids`, all at the same time.

    Return a list of the results, in the same order as `user_ids`.
    """
    tasks = []
    for user_id in user_ids:
        tasks.append(asyncio.create_task(fetch_user(user_id)))
        time.sleep(0.005)  # "be polite to the API": 5 ms a call, the loop frozen each time
    return list(await asyncio.gather(*tasks))


# Task 2: two different calls at once
async def fetch_profile(get_user, get_orders, user_id):
    """Fetch a user and that user's orders at the same time.

    Return `{"user": <what get_user returned>, "orders": <what get_orders returned>}`.
    """
    user, orders = await asyncio.gather(get_user(user_id), get_orders(user_id))
    return {"user": user, "orders": orders}
