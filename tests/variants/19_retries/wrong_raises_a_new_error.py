"""Raises a new RuntimeError when it gives up instead of the last try's own error."""

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
    for n in range(attempts):
        try:
            return await call()
        except transient as error:
            if n == attempts - 1:
                raise RuntimeError(f"gave up after {attempts} tries") from error
        await sleep(backoff_delay(n, base_delay, max_delay, random))
