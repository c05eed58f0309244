"""poll_until_ready waits between checks in a thread (asyncio.to_thread(time.sleep, ...))."""

import asyncio
import time


async def poll_until_ready(check, interval):
    while (result := await check()) is None:
        await asyncio.to_thread(time.sleep, interval)
    return result


async def remind(send, message, delay):
    await asyncio.sleep(delay)
    await send(message)


async def send_reminders(send, reminders):
    tasks = [asyncio.create_task(remind(send, m, d)) for d, m in reminders]
    if tasks:
        await asyncio.wait(tasks)
    for t in tasks:
        t.result()
