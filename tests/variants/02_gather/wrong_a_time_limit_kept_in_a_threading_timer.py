"""fetch_all gives the calls 5 s by a `threading.Timer(5, ...)` that cancels the gather from its
thread (`loop.call_soon_threadsafe(gathered.cancel)`), then raises TimeoutError: a limit the
docstring does not give, kept outside the loop (a red team's; it passed, as the test only held a
thread's timed wait back and never ran it out)."""

# fails only: test_every_call_runs_at_the_same_time[many_ids], test_every_call_runs_at_the_same_time[two_ids]

import asyncio
import threading


async def fetch_all(fetch_user, user_ids):
    loop = asyncio.get_running_loop()
    gathered = asyncio.gather(*(fetch_user(user_id) for user_id in user_ids))
    timer = threading.Timer(5, loop.call_soon_threadsafe, args=(gathered.cancel,))
    timer.start()
    try:
        return list(await gathered)
    except asyncio.CancelledError:
        raise TimeoutError("fetch_all took too long") from None
    finally:
        timer.cancel()


async def fetch_profile(get_user, get_orders, user_id):
    user, orders = await asyncio.gather(get_user(user_id), get_orders(user_id))
    return {"user": user, "orders": orders}
