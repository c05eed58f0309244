"""Countdowns run together (as_completed), but each send is awaited in turn in the collecting loop."""

import asyncio


async def poll_until_ready(check, interval):
    result = await check()
    while result is None:
        await asyncio.sleep(interval)
        result = await check()
    return result


async def countdown(delay, message):
    await asyncio.sleep(delay)
    return message


async def send_reminders(send, reminders):
    for due in asyncio.as_completed([countdown(delay, message) for delay, message in reminders]):
        await send(await due)
