"""Wrong: a cancelled wait counts as a wait cut short, so a retry cancelled while it waits tries again."""

# fails only: test_a_cancelled_retry_stops_at_once_and_the_cancellation_reaches_the_caller

import asyncio
import contextlib
import random


def backoff_delay(retry_number, base_delay, max_delay, random=random.random):
    return random() * min(max_delay, base_delay * 2**retry_number)


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
    for n in range(attempts):
        try:
            return await call()
        except transient:
            if n == attempts - 1:
                raise
        with contextlib.suppress(asyncio.CancelledError):  # a wait cut short: on to the next try
            await sleep(backoff_delay(n, base_delay, max_delay, random))
