"""poll_until_ready drops the answer that ended its loop and calls check() again to return it."""

import asyncio


async def poll_until_ready(check, interval):
    while await check() is None:
        await asyncio.sleep(interval)
    return await check()


async def remind(send, message, delay):
    await asyncio.sleep(delay)
    await send(message)


async def send_reminders(send, reminders):
    await asyncio.gather(*(remind(send, message, delay) for delay, message in reminders))
