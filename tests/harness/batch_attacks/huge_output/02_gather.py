"""Attack: an exception with a 50 MB message for every test of task 1, 50 MB on stdout in task 2.

The message goes to the grader (cut there, or not...); the printing goes to pytest's capture and
the child's output. Either could take the grader's memory with it.
"""

import sys

FIFTY_MB = 50 * 1024 * 1024


async def fetch_all(fetch_user, user_ids):
    raise ValueError("the answer is " + "y" * FIFTY_MB)


async def fetch_profile(get_user, get_orders, user_id):
    sys.stdout.write("x" * FIFTY_MB)
    raise NotImplementedError
