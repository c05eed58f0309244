"""Wrong: fetch_or_none cancels its call only after asyncio.wait returns: cancelled, it leaves it running."""
# fails only: test_a_cancel_from_the_caller_is_not_a_timeout, test_a_cancel_from_the_caller_stops_every_call, test_cancelled_again_while_its_calls_stop_it_ends_cancelled_with_every_call_cancelled
# ruff: noqa: E501 (the line above names every test it fails)
# The call runs as a task under `asyncio.wait(..., timeout=limit)`, and it is cancelled and awaited
# once the wait is over. Cancelled by its caller during the wait, fetch_or_none ends there: the code
# after the `await` never runs, and the call goes on running (so do fetch_all_within's, made of
# fetch_or_none). A `finally:` block that cancels the task and awaits it stops it.

import asyncio


async def fetch_or_none(fetch, key, limit):
    task = asyncio.create_task(fetch(key))
    done, _ = await asyncio.wait({task}, timeout=limit)
    if task in done:
        return task.result()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return None


async def fetch_all_within(fetch, keys, limit):
    values = await asyncio.gather(*(fetch_or_none(fetch, key, limit) for key in keys))
    return dict(zip(keys, values, strict=True))
