"""Correct: a `while True` poll loop, and a TaskGroup instead of gather."""

import asyncio


async def poll_until_ready(check, interval):
    while True:
        result = await check()
        if result is not None:
            return result
        await asyncio.sleep(interval)


async def remind(send, message, delay):
    await asyncio.sleep(delay)
    await send(message)


async def send_reminders(send, reminders):
    async with asyncio.TaskGroup() as group:
        for delay, message in reminders:
            group.create_task(remind(send, message, delay))
