"""Correct: a walrus poll loop, and one create_task per reminder, each awaited."""

import asyncio


async def poll_until_ready(check, interval):
    while (result := await check()) is None:
        await asyncio.sleep(interval)
    return result


async def send_reminders(send, reminders):
    async def remind(delay, message):
        await asyncio.sleep(delay)
        await send(message)

    tasks = [asyncio.create_task(remind(delay, message)) for delay, message in reminders]
    for task in tasks:
        await task
