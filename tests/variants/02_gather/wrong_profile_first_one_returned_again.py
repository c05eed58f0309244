"""Wrong: fetch_profile keeps the first profile it makes in the module, and returns it on every
later call, whatever the user: the services are asked only once (a red team's answer)."""
# fails only: test_a_second_profile_asks_both_services_afresh, test_each_answer_goes_under_its_own_key_whichever_call_ends_first, test_answers_that_are_false_in_an_if_are_kept_as_they_are
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio

_first_profile = []


async def fetch_all(fetch_user, user_ids):
    return list(await asyncio.gather(*(fetch_user(user_id) for user_id in user_ids)))


async def fetch_profile(get_user, get_orders, user_id):
    if not _first_profile:
        user, orders = await asyncio.gather(get_user(user_id), get_orders(user_id))
        _first_profile.append({"user": user, "orders": orders})
    return _first_profile[0]
