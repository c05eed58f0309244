"""Replaces time.sleep with a busy loop that watches the clock: the loop is just as frozen."""

import asyncio
import time


def spin(seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pass


async def poll_until_ready(check, interval):
    result = await check()
    while result is None:
        spin(interval)
        result = await check()
    return result


async def remind(send, message, delay):
    spin(delay)
    await send(message)


async def send_reminders(send, reminders):
    await asyncio.gather(*(remind(send, message, delay) for delay, message in reminders))
