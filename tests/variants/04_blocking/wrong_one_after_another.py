"""Fixes the sleeps but awaits each reminder before starting the next, so the delays add up."""

import asyncio


async def poll_until_ready(check, interval):
    result = await check()
    while result is None:
        await asyncio.sleep(interval)
        result = await check()
    return result


async def remind(send, message, delay):
    await asyncio.sleep(delay)
    await send(message)


async def send_reminders(send, reminders):
    for delay, message in reminders:
        await remind(send, message, delay)
