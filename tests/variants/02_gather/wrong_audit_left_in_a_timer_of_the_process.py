"""Wrong: fetch_profile arms a timer of the process (`signal.setitimer`) whose handler does an
audit later, and returns: the handler runs in the main thread after the function has returned,
between two lines of whatever runs then."""
# fails only: test_profile_holds_the_user_and_their_orders, test_user_and_orders_are_fetched_at_the_same_time, test_a_second_profile_asks_both_services_afresh, test_each_answer_goes_under_its_own_key_whichever_call_ends_first, test_answers_that_are_false_in_an_if_are_kept_as_they_are
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio
import signal

AUDITED = []


def _audit(signum, frame):
    AUDITED.append(signum)


async def fetch_all(fetch_user, user_ids):
    return list(await asyncio.gather(*(fetch_user(user_id) for user_id in user_ids)))


async def fetch_profile(get_user, get_orders, user_id):
    signal.signal(signal.SIGALRM, _audit)
    signal.setitimer(signal.ITIMER_REAL, 1.5)
    user, orders = await asyncio.gather(get_user(user_id), get_orders(user_id))
    return {"user": user, "orders": orders}
