"""Wrong: fetch_all awaits the calls one after another when it has six ids or fewer, and gathers them only
from seven on (learner trial AA)."""
# fails only: test_every_call_runs_at_the_same_time[two_ids], test_a_list_of_any_size_has_all_its_calls_run_at_the_same_time
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio


# Task 1: fetch every user at once
async def fetch_all(fetch_user, user_ids):
    """Call `await fetch_user(user_id)` for every id in `user_ids`, all at the same time.

    Return a list of the results, in the same order as `user_ids`. If a call raises, let its
    error reach the caller.
    """
    if len(user_ids) <= 6:
        return [await fetch_user(user_id) for user_id in user_ids]
    return list(await asyncio.gather(*(fetch_user(user_id) for user_id in user_ids)))


# Task 2: two different calls at once
async def fetch_profile(get_user, get_orders, user_id):
    """Fetch a user and that user's orders at the same time.

    Return `{"user": <what get_user returned>, "orders": <what get_orders returned>}`.
    """
    user, orders = await asyncio.gather(get_user(user_id), get_orders(user_id))
    return {"user": user, "orders": orders}
