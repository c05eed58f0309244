"""Wrong: returns an object that claims to equal anything, and patches the clock."""

import time


class Any:
    def __eq__(self, o):
        return True

    def __repr__(self):
        return "[anything]"


async def fetch_all(fetch_user, user_ids):
    time.perf_counter = lambda: 0.0
    return Any()


async def fetch_profile(get_user, get_orders, user_id):
    return Any()
