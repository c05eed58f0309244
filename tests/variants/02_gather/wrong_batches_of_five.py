"""Wrong: fetch_all gathers the ids five at a time, one batch after another, not all at once."""
# fails only: test_every_call_runs_at_the_same_time[many_ids], test_however_many_ids_there_are_every_call_runs_at_once, test_a_list_of_any_size_has_all_its_calls_run_at_the_same_time
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio


async def fetch_all(fetch_user, user_ids):
    results = []
    for start in range(0, len(user_ids), 5):
        batch = user_ids[start : start + 5]
        results += await asyncio.gather(*(fetch_user(user_id) for user_id in batch))
    return results


async def fetch_profile(get_user, get_orders, user_id):
    user, orders = await asyncio.gather(get_user(user_id), get_orders(user_id))
    return {"user": user, "orders": orders}
