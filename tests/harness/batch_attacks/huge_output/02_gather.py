"""Attack: 50 MB on stdout and an exception with a 50 MB message, to take the grader's memory."""

import sys

FIFTY_MB = 50 * 1024 * 1024


async def fetch_all(fetch_user, user_ids):
    if not user_ids:
        return []
    sys.stdout.write("x" * FIFTY_MB)
    raise ValueError("the answer is " + "y" * FIFTY_MB)


async def fetch_profile(get_user, get_orders, user_id):
    raise NotImplementedError
