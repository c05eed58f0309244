"""Wrong: tasks started and results read without awaiting them; a stray task is left running."""

import asyncio


async def fetch_all(fetch_user, user_ids):
    tasks = [asyncio.create_task(fetch_user(u)) for u in user_ids]
    await asyncio.sleep(0.21)
    asyncio.create_task(fetch_user(1))  # noqa: RUF006 -- the lost task is the mistake shown
    return [t.result() for t in tasks]


async def fetch_profile(get_user, get_orders, user_id):
    async def boom():
        raise ValueError("boom")

    asyncio.create_task(boom())  # noqa: RUF006 -- the lost task is the mistake shown
    u, o = await asyncio.gather(get_user(user_id), get_orders(user_id))
    return {"user": u, "orders": o}
