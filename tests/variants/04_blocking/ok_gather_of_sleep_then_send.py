"""Correct: gather over one inner coroutine per reminder that sleeps, then sends."""

import asyncio


async def poll_until_ready(check, interval):
    result = await check()
    while result is None:
        await asyncio.sleep(interval)
        result = await check()
    return result


async def send_reminders(send, reminders):
    async def later(delay, message):
        await asyncio.sleep(delay)
        return await send(message)

    await asyncio.gather(*[later(delay, message) for delay, message in reminders])
