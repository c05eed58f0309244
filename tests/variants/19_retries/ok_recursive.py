"""Correct: retry calls itself with one attempt fewer and a later retry number."""

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
    return await _retry(call, 0, attempts, base_delay, max_delay, transient, sleep, random)


async def _retry(call, n, attempts, base_delay, max_delay, transient, sleep, random):
    try:
        return await call()
    except transient:
        if n + 1 >= attempts:
            raise
    await sleep(backoff_delay(n, base_delay, max_delay, random))
    return await _retry(call, n + 1, attempts, base_delay, max_delay, transient, sleep, random)
