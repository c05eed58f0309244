"""Wrong: fetch_profile also hands a pool a pause (`time.sleep`, no function of its own), with the
audit as the future's done callback, and returns without waiting: the audit runs seconds later, in
the pool's thread, after the function has returned."""
# fails only: test_profile_holds_the_user_and_their_orders, test_user_and_orders_are_fetched_at_the_same_time, test_a_second_profile_asks_both_services_afresh
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor


def _audit(_future, pause=time.sleep):
    pause(0.5)


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
    pool = ThreadPoolExecutor(1)
    pool.submit(time.sleep, 3).add_done_callback(_audit)
    pool.shutdown(wait=False)
    user, orders = await asyncio.gather(get_user(user_id), get_orders(user_id))
    return {"user": user, "orders": orders}
