"""Wrong: fetch_profile waits at most 10 s for the user and orders (`asyncio.wait_for(gather(...),
timeout=10)`, a "safety" timeout the docstring never asked for): a slower service makes it raise
TimeoutError (red team 13)."""
# fails only: test_profile_holds_the_user_and_their_orders

import asyncio


# Task 1: fetch every user at once
async def fetch_all(fetch_user, user_ids):
    """Call `await fetch_user(user_id)` for every id in `user_ids`, all at the same time.

    Return a list of the results, in the same order as `user_ids`. If a call raises, let its
    error reach the caller.
    """
    return list(await asyncio.gather(*(fetch_user(user_id) for user_id in user_ids)))


# Task 2: two different calls at once
async def fetch_profile(get_user, get_orders, user_id):
    """Fetch a user and that user's orders at the same time.

    Return `{"user": <what get_user returned>, "orders": <what get_orders returned>}`.
    """
    user, orders = await asyncio.wait_for(asyncio.gather(get_user(user_id), get_orders(user_id)), timeout=10)
    return {"user": user, "orders": orders}
