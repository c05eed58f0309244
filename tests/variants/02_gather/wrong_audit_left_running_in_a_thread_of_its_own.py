"""Wrong: fetch_profile also starts an audit in a thread of its own, on an event loop of its own
(`asyncio.run`), and returns without waiting for it: no loop of the test's runs the audit, and it
is still running after the function has returned."""
# fails only: test_profile_holds_the_user_and_their_orders, test_user_and_orders_are_fetched_at_the_same_time, test_a_second_profile_asks_both_services_afresh
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio
import threading


async def _audit(user_id):
    await asyncio.sleep(3)


async def fetch_all(fetch_user, user_ids):
    return list(await asyncio.gather(*(fetch_user(user_id) for user_id in user_ids)))


async def fetch_profile(get_user, get_orders, user_id):
    threading.Thread(target=asyncio.run, args=(_audit(user_id),), daemon=True).start()
    user, orders = await asyncio.gather(get_user(user_id), get_orders(user_id))
    return {"user": user, "orders": orders}
