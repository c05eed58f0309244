"""Gives up one try early: counts tries from 1 but stops before `attempts`."""

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
    for n in range(1, attempts):
        try:
            return await call()
        except transient:
            if n == attempts - 1:
                raise
        await sleep(backoff_delay(n - 1, base_delay, max_delay, random))
