"""Correct: a while loop that keeps the last error and raises it after the loop."""

import asyncio
import random


def backoff_delay(retry_number, base_delay, max_delay, random=random.random):
    cap = min(max_delay, base_delay * (2**retry_number))
    return cap * random()


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
    tries = 0
    while True:
        tries += 1
        try:
            return await call()
        except Exception as error:
            if not isinstance(error, transient):
                raise
            last_error = error
        if tries >= attempts:
            break
        await sleep(backoff_delay(tries - 1, base_delay, max_delay, random))
    raise last_error
