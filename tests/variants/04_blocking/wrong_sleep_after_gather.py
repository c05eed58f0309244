"""Sends every reminder at once, then sleeps for the longest delay: right length, wrong moments."""

import asyncio


async def poll_until_ready(check, interval):
    result = await check()
    while result is None:
        await asyncio.sleep(interval)
        result = await check()
    return result


async def send_reminders(send, reminders):
    await asyncio.gather(*(send(message) for _, message in reminders))
    await asyncio.sleep(max((delay for delay, _ in reminders), default=0))
