"""Correct: as_completed, putting each result back in its place."""

import asyncio


async def fetch_all(fetch_user, user_ids):
    async def one(i, u):
        return i, await fetch_user(u)

    out = [None] * len(user_ids)
    for fut in asyncio.as_completed([one(i, u) for i, u in enumerate(user_ids)]):
        i, r = await fut
        out[i] = r
    return out


async def fetch_profile(get_user, get_orders, user_id):
    u, o = await asyncio.gather(get_user(user_id), get_orders(user_id))
    return {"user": u, "orders": o}
