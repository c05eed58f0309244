"""Wrong: fetch_all keeps every result in a dict at module level and never fetches an id again (a
red team's answer): a second call returns the first call's answers, however they have changed."""
# fails only: test_a_second_call_asks_fetch_afresh

import asyncio

# Task 1: a group of tasks
_known = {}  # id -> value, so that an id is never fetched twice


async def fetch_all(fetch, ids):
    results = [None] * len(ids)
    todo = []
    for n, item_id in enumerate(ids):
        if item_id in _known:
            results[n] = _known[item_id]
        else:
            todo.append(n)
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(fetch(ids[n])) for n in todo]
    for n, task in zip(todo, tasks, strict=True):
        results[n] = _known[ids[n]] = task.result()
    return results


# Task 2: one part fails, the page fails
async def load_page(loaders, user_id):
    """Load every part of a page at the same time.

    Return a dict mapping each part's name to what its loader returned. If a loader
    raises, cancel the others and let the error (in the group's ExceptionGroup) go on up.
    """
    async with asyncio.TaskGroup() as group:
        tasks = {name: group.create_task(load(user_id)) for name, load in loaders.items()}
    return {name: task.result() for name, task in tasks.items()}


# Task 3: sort the failures with except*
async def failure_report(fetch, ids):
    """Call `await fetch(id)` for every id in `ids`, all at the same time, in one TaskGroup.

    Return `{"timeouts": [...], "not_found": [...]}`, the sorted ids whose call raised
    TimeoutError and KeyError. Any other error goes on up.
    """
    report = {"timeouts": [], "not_found": []}
    try:
        async with asyncio.TaskGroup() as group:
            for item_id in ids:
                group.create_task(fetch(item_id))
    except* TimeoutError as errors:
        report["timeouts"] = sorted(error.args[0] for error in errors.exceptions)
    except* KeyError as errors:
        report["not_found"] = sorted(error.args[0] for error in errors.exceptions)
    return report
