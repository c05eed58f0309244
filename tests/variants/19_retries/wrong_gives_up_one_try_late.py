"""Gives up one try late: treats `attempts` as the number of retries after the first try."""

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
    for n in range(attempts + 1):
        try:
            return await call()
        except transient:
            if n == attempts:
                raise
        await sleep(backoff_delay(n, base_delay, max_delay, random))
