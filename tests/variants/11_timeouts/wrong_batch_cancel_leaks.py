"""Wrong: the tasks are cleaned up only after asyncio.wait returns: cancelled, it leaves them running."""
# fails only: test_a_cancel_from_the_caller_stops_every_call, test_cancelled_again_while_its_calls_stop_it_ends_cancelled_with_every_call_cancelled
# ruff: noqa: E501 (the line above names every test it fails)
# The calls run as tasks under `asyncio.wait(..., timeout=limit)`, and the pending ones are cancelled
# and awaited once the wait is over. Cancelled by its caller during the wait, fetch_all_within ends
# there: the code after the `await` never runs, and every call it started goes on running. A
# `finally:` block that cancels the tasks and awaits them (or a gather, or a TaskGroup) stops them.
# (A red team's answer.)

import asyncio


async def fetch_or_none(fetch, key, limit):
    try:
        async with asyncio.timeout(limit):
            return await fetch(key)
    except TimeoutError:
        return None


async def fetch_all_within(fetch, keys, limit):
    tasks = [asyncio.create_task(fetch(key)) for key in keys]
    if not tasks:
        return {}
    done, pending = await asyncio.wait(tasks, timeout=limit)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending)
    return {key: (task.result() if task in done else None) for key, task in zip(keys, tasks, strict=True)}
