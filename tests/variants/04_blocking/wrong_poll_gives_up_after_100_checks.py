"""Wrong: poll_until_ready gives up after 100 checks (a "safety" cap) and raises TimeoutError, though
the docstring says to check until the job is done, however many checks that takes (red team 13)."""
# fails only: test_it_keeps_checking_however_many_checks_it_takes

import asyncio

MAX_CHECKS = 100


async def poll_until_ready(check, interval):
    for _ in range(MAX_CHECKS):
        result = await check()
        if result is not None:
            return result
        await asyncio.sleep(interval)
    raise TimeoutError(f"the job was not done after {MAX_CHECKS} checks")


async def remind(send, message, delay):
    await asyncio.sleep(delay)
    await send(message)


async def send_reminders(send, reminders):
    await asyncio.gather(*(remind(send, message, delay) for delay, message in reminders))
