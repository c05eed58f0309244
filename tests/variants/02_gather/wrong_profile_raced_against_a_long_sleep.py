"""fetch_profile races its gather against a 20 s sleep (`asyncio.wait(..., FIRST_COMPLETED)`) and
gives up when the sleep wins: a time limit of its own, which no test waits out (a red team's).
"""

# fails only: test_profile_holds_the_user_and_their_orders

import asyncio


async def fetch_all(fetch_user, user_ids):
    return list(await asyncio.gather(*(fetch_user(u) for u in user_ids)))


async def fetch_profile(get_user, get_orders, user_id):
    work = asyncio.ensure_future(asyncio.gather(get_user(user_id), get_orders(user_id)))
    alarm = asyncio.create_task(asyncio.sleep(20))
    try:
        await asyncio.wait({work, alarm}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        alarm.cancel()
    if not work.done():
        work.cancel()
        raise TimeoutError("fetch_profile took too long")
    user, orders = work.result()
    return {"user": user, "orders": orders}
