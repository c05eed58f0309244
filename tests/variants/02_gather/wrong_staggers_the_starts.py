"""Wrong: fetch_all sleeps 4 ms after starting each call, "to be gentle with the service": the
docstring asks for every call at the same time, and 300 ids of 0.1 s take 1.3 s instead of 0.1 s (a red
team's answer; with calls held until all were in flight, 160 x 4 ms passed the test of caps). It
declares no tests of its own: test_every_call_starts_at_once_with_no_wait_of_its_own_first fails it
in both modes, and on a busy machine its late starts fail the tests of time too."""

import asyncio


# Task 1: fetch every user at once
async def fetch_all(fetch_user, user_ids):
    """Call `await fetch_user(user_id)` for every id in `user_ids`, all at the same time.

    Return a list of the results, in the same order as `user_ids`. If a call raises, let its
    error reach the caller.
    """
    tasks = []
    for user_id in user_ids:
        tasks.append(asyncio.ensure_future(fetch_user(user_id)))
        await asyncio.sleep(0.004)  # be gentle with the service: stagger the starts
    return list(await asyncio.gather(*tasks))


# Task 2: two different calls at once
async def fetch_profile(get_user, get_orders, user_id):
    """Fetch a user and that user's orders at the same time.

    Return `{"user": <what get_user returned>, "orders": <what get_orders returned>}`.
    """
    user, orders = await asyncio.gather(get_user(user_id), get_orders(user_id))
    return {"user": user, "orders": orders}
