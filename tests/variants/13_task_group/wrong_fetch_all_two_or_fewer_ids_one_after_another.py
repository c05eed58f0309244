"""Wrong: fetch_all awaits the calls one after another when it has two ids or fewer, and makes its TaskGroup
only from three on (learner trial AA)."""
# fails only: test_every_call_runs_at_the_same_time[two_ids], test_a_list_of_any_size_has_all_its_calls_run_at_the_same_time
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio


# Task 1: a group of tasks
async def fetch_all(fetch, ids):
    """Call `await fetch(id)` for every id in `ids`, all at the same time, as the tasks of
    one `asyncio.TaskGroup`.

    Return a list of the results, in the same order as `ids`.
    """
    if len(ids) <= 2:
        return [await fetch(item_id) for item_id in ids]
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(fetch(item_id)) for item_id in ids]
    return [task.result() for task in tasks]


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
