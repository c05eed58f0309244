"""fetch_all starts a task per id, then checks every 10 ms whether they are all done
(`while not all(t.done() ...): await asyncio.sleep(0.01)`): the calls run together, but the
function wakes again and again instead of awaiting them.
"""

# fails only: test_every_call_runs_at_the_same_time[many_ids], test_every_call_runs_at_the_same_time[two_ids]

import asyncio


# Task 1: fetch every user at once
async def fetch_all(fetch_user, user_ids):
    """Call `await fetch_user(user_id)` for every id in `user_ids`, all at the same time.

    Return a list of the results, in the same order as `user_ids`. If a call raises, let its
    error reach the caller.
    """
    tasks = [asyncio.create_task(fetch_user(u)) for u in user_ids]
    while not all(t.done() for t in tasks):
        await asyncio.sleep(0.01)
    return [t.result() for t in tasks]


# Task 2: two different calls at once
async def fetch_profile(get_user, get_orders, user_id):
    """Fetch a user and that user's orders at the same time.

    Return `{"user": <what get_user returned>, "orders": <what get_orders returned>}`.
    """
    user, orders = await asyncio.gather(get_user(user_id), get_orders(user_id))
    return {"user": user, "orders": orders}
