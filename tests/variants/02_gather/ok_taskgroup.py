"""Correct: a TaskGroup instead of gather."""

import asyncio


async def fetch_all(fetch_user, user_ids):
    async with asyncio.TaskGroup() as tg:
        tasks = [tg.create_task(fetch_user(u)) for u in user_ids]
    return [t.result() for t in tasks]


async def fetch_profile(get_user, get_orders, user_id):
    async with asyncio.TaskGroup() as tg:
        u = tg.create_task(get_user(user_id))
        o = tg.create_task(get_orders(user_id))
    return {"user": u.result(), "orders": o.result()}
