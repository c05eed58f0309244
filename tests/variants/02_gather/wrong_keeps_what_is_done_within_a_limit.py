"""fetch_all waits at most 30 s (`asyncio.wait(tasks, timeout=30)`), then returns what is done and
None for the rest: a limit the docstring does not give, which no test could wait out."""

# fails only: test_every_call_runs_at_the_same_time[many_ids], test_every_call_runs_at_the_same_time[two_ids]

import asyncio


async def fetch_all(fetch_user, user_ids):
    tasks = [asyncio.create_task(fetch_user(u)) for u in user_ids]
    if not tasks:
        return []
    done, pending = await asyncio.wait(tasks, timeout=30)
    for task in pending:
        task.cancel()
    return [t.result() if t in done else None for t in tasks]


async def fetch_profile(get_user, get_orders, user_id):
    user, orders = await asyncio.gather(get_user(user_id), get_orders(user_id))
    return {"user": user, "orders": orders}
