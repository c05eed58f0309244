"""Correct: each try runs as a task that retry awaits (a cancel of retry reaches it), with a while loop
and a counter.
"""

import asyncio
import random


# Task 1: how long to wait
def backoff_delay(retry_number, base_delay, max_delay, random=random.random):
    """Return the wait, in seconds, before retry number `retry_number` (0 for the first retry).

    Full jitter: `random() * min(max_delay, base_delay * 2**retry_number)`.
    Call `random()` exactly once, the function you are given, not the `random` module.
    """
    return random() * min(max_delay, base_delay * 2**retry_number)


# Task 2: try again, and give up in time
async def retry(
    call,
    *,
    attempts,
    base_delay,
    max_delay,
    transient=(ConnectionError, TimeoutError),
    sleep=asyncio.sleep,
    random=random.random,
):
    n = 0
    while True:
        try:
            # Inside the `try:`: an error `call()` raises itself, before there is a task, is this try's.
            attempt = asyncio.create_task(call())
            return await attempt
        except transient:
            if n == attempts - 1:
                raise
        await sleep(backoff_delay(n, base_delay, max_delay, random))
        n += 1
