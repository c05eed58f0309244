"""Correct: create_task for every call, then await each task."""

import asyncio


async def fetch_all(fetch_user, user_ids):
    tasks = [asyncio.create_task(fetch_user(u)) for u in user_ids]
    return [await t for t in tasks]


async def fetch_profile(get_user, get_orders, user_id):
    u = asyncio.create_task(get_user(user_id))
    o = asyncio.create_task(get_orders(user_id))
    return {"user": await u, "orders": await o}
