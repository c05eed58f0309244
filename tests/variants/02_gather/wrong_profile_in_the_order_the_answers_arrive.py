"""Wrong: fetch_profile takes the first answer to arrive for the user (as_completed), not get_user's."""

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
    results = []
    for next_done in asyncio.as_completed([get_user(user_id), get_orders(user_id)]):
        results.append(await next_done)  # in the order they end: not which call gave which
    user, orders = results
    return {"user": user, "orders": orders}
