"""Waits with time.sleep inside async functions, which freezes the event loop."""

import asyncio
import time


async def poll_until_ready(check, interval):
    result = await check()
    while result is None:
        time.sleep(interval)
        result = await check()
    return result


async def remind(send, message, delay):
    time.sleep(delay)
    await send(message)


async def send_reminders(send, reminders):
    await asyncio.gather(*(remind(send, message, delay) for delay, message in reminders))
