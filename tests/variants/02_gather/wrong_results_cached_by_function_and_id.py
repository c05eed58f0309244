"""fetch_all keeps every result in a module-level dict keyed by (id(fetch_user), user_id): a second call
with the same fetch_user returns the first call's answers (a red team's answer)."""
# fails only: test_a_second_call_asks_fetch_user_afresh

import asyncio

# Task 1: fetch every user at once
_cache = {}


async def fetch_all(fetch_user, user_ids):
    """Call `await fetch_user(user_id)` for every id in `user_ids`, all at the same time.

    Return a list of the results, in the same order as `user_ids`. If a call raises, let its
    error reach the caller.
    """

    async def one(user_id):
        key = (id(fetch_user), user_id)
        if key in _cache:
            return _cache[key]
        value = await fetch_user(user_id)
        _cache[key] = value
        return value

    return list(await asyncio.gather(*(one(user_id) for user_id in user_ids)))


# Task 2: two different calls at once
async def fetch_profile(get_user, get_orders, user_id):
    """Fetch a user and that user's orders at the same time.

    Return `{"user": <what get_user returned>, "orders": <what get_orders returned>}`.
    """
    user, orders = await asyncio.gather(get_user(user_id), get_orders(user_id))
    return {"user": user, "orders": orders}
