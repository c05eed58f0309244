"""Correct: each call wrapped to report its own outcome; a TaskGroup for fail-fast."""

import asyncio


async def fetch_all_settled(fetch, ids):
    async def outcome(item_id):
        try:
            return item_id, await fetch(item_id), None
        except Exception as error:
            return item_id, None, error

    successes, failures = {}, {}
    for item_id, value, error in await asyncio.gather(*(outcome(item_id) for item_id in ids)):
        if error is None:
            successes[item_id] = value
        else:
            failures[item_id] = error
    return successes, failures


async def fetch_all_or_nothing(fetch, ids):
    # TaskGroup cancels the other tasks when one fails, waits for them, and raises an ExceptionGroup.
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(fetch(item_id)) for item_id in ids]
    return [task.result() for task in tasks]
