"""Wrong: fetch_all calls fetch_user for every id, but maps the results back through a dict keyed by id: a
repeated id gets its last call's answer in both of its places (a learner trial's answer)."""
# fails only: test_a_repeated_id_is_fetched_each_time_and_falsy_results_are_kept

import asyncio


# Task 1: fetch every user at once
async def fetch_all(fetch_user, user_ids):
    """Call `await fetch_user(user_id)` for every id in `user_ids`, all at the same time.

    Return a list of the results, in the same order as `user_ids`. If a call raises, let its
    error reach the caller.
    """
    results = await asyncio.gather(*(fetch_user(user_id) for user_id in user_ids))
    by_id = dict(zip(user_ids, results, strict=True))
    return [by_id[user_id] for user_id in user_ids]


# Task 2: two different calls at once
async def fetch_profile(get_user, get_orders, user_id):
    """Fetch a user and that user's orders at the same time.

    Return `{"user": <what get_user returned>, "orders": <what get_orders returned>}`.
    """
    user, orders = await asyncio.gather(get_user(user_id), get_orders(user_id))
    return {"user": user, "orders": orders}
