"""poll waits with asyncio.timeout on an Event that never fires; reminders sleep to deadlines."""

import asyncio


async def poll_until_ready(check, interval):
    never = asyncio.Event()
    result = await check()
    while result is None:
        try:
            async with asyncio.timeout(interval):
                await never.wait()
        except TimeoutError:
            pass
        result = await check()
    return result


async def remind(send, message, delay):
    await asyncio.sleep(delay)
    await send(message)


async def send_reminders(send, reminders):
    loop = asyncio.get_running_loop()
    start = loop.time()

    async def at(when, message):
        await asyncio.sleep(max(0.0, when - loop.time()))
        await send(message)

    async with asyncio.TaskGroup() as tg:
        for delay, message in reminders:
            tg.create_task(at(start + delay, message))
