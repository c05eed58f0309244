"""Wrong: fetch_profile also hands an audit to a pool (`executor.submit`) and never reads the
future it gets: the audit fails, and its error stays in that future, told to nobody."""
# fails only: test_profile_holds_the_user_and_their_orders, test_user_and_orders_are_fetched_at_the_same_time, test_a_second_profile_asks_both_services_afresh, test_each_answer_goes_under_its_own_key_whichever_call_ends_first, test_answers_that_are_false_in_an_if_are_kept_as_they_are
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio
from concurrent.futures import ThreadPoolExecutor

_AUDITS = ThreadPoolExecutor(2)


def _audit(user_id):
    raise ValueError(f"audit of {user_id} failed")


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
    _AUDITS.submit(_audit, user_id)
    user, orders = await asyncio.gather(get_user(user_id), get_orders(user_id))
    return {"user": user, "orders": orders}
