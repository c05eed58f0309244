"""Wrong: counts asyncio.CancelledError as a transient error, so a cancelled retry tries again."""

# fails only: test_a_cancelled_retry_stops_at_once_and_the_cancellation_reaches_the_caller

import asyncio
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
    # a try that was cut short (timed out or cancelled) is worth another try as well
    retryable = (*transient, asyncio.CancelledError)
    for n in range(attempts):
        try:
            return await call()
        except retryable:
            if n == attempts - 1:
                raise
        await sleep(backoff_delay(n, base_delay, max_delay, random))
