"""Each reminder waits in a thread: past the pool's thread count, reminders go out late."""

import asyncio
import time


async def poll_until_ready(check, interval):
    result = await check()
    while result is None:
        await asyncio.sleep(interval)
        result = await check()
    return result


async def remind(send, message, delay):
    await asyncio.to_thread(time.sleep, delay)
    await send(message)


async def send_reminders(send, reminders):
    await asyncio.gather(*(remind(send, message, delay) for delay, message in reminders))
