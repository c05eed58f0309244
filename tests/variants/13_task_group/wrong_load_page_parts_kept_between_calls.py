"""Wrong: load_page keeps every part it loaded in a dict at module level, and never loads a part of
the same user again: a second call returns the first call's parts, however they have changed."""
# fails only: test_a_second_call_loads_every_part_afresh

import asyncio


# Task 1: a group of tasks
async def fetch_all(fetch, ids):
    """Call `await fetch(id)` for every id in `ids`, all at the same time, as the tasks of
    one `asyncio.TaskGroup`.

    Return a list of the results, in the same order as `ids`.
    """
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(fetch(item_id)) for item_id in ids]
    return [task.result() for task in tasks]


# Task 2: one part fails, the page fails
_parts = {}  # (name, user_id) -> part, so that no part is loaded twice


async def load_page(loaders, user_id):
    """Load every part of a page at the same time.

    Return a dict mapping each part's name to what its loader returned. If a loader
    raises, cancel the others and let the error (in the group's ExceptionGroup) go on up.
    """
    todo = {name: load for name, load in loaders.items() if (name, user_id) not in _parts}
    async with asyncio.TaskGroup() as group:
        tasks = {name: group.create_task(load(user_id)) for name, load in todo.items()}
    for name, task in tasks.items():
        _parts[name, user_id] = task.result()
    return {name: _parts[name, user_id] for name in loaders}


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
