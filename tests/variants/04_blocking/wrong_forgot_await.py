"""Calls asyncio.sleep without await, so it creates a coroutine and never waits at all."""

import asyncio


async def poll_until_ready(check, interval):
    result = await check()
    while result is None:
        asyncio.sleep(interval)
        result = await check()
    return result


async def remind(send, message, delay):
    asyncio.sleep(delay)
    await send(message)


async def send_reminders(send, reminders):
    await asyncio.gather(*(remind(send, message, delay) for delay, message in reminders))
