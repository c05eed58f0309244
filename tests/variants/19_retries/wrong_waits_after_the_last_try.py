"""Waits once more after the last try failed, before raising: a wait for nothing."""

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
    last_error = None
    for n in range(attempts):
        try:
            return await call()
        except transient as error:
            last_error = error
            await sleep(backoff_delay(n, base_delay, max_delay, random))
    raise last_error
