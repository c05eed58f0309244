"""Wrong: send_reminders lets at most 50 reminders count down (and send) at once, on a Semaphore(50)
"to spare the mail server": with more than 50, the rest wait their turn, though "all the countdowns
run at the same time, however many reminders there are" (red team 13)."""
# fails only: test_however_many_reminders_there_are_every_one_counts_down_at_once

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
    gate = asyncio.Semaphore(50)

    async def one(delay, message):
        async with gate:
            await remind(send, message, delay)

    await asyncio.gather(*(one(delay, message) for delay, message in reminders))
