"""Wrong: failure_report's report is a default argument, made once when the function is defined, and
each call adds its failures to it: a second call's report still holds the first call's."""
# fails only: test_a_second_call_reports_its_own_failures_alone

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
async def load_page(loaders, user_id):
    """Load every part of a page at the same time.

    Return a dict mapping each part's name to what its loader returned. If a loader
    raises, cancel the others and let the error (in the group's ExceptionGroup) go on up.
    """
    async with asyncio.TaskGroup() as group:
        tasks = {name: group.create_task(load(user_id)) for name, load in loaders.items()}
    return {name: task.result() for name, task in tasks.items()}


# Task 3: sort the failures with except*
async def failure_report(fetch, ids, report={"timeouts": [], "not_found": []}):  # noqa: B006 (the mistake on show)
    """Call `await fetch(id)` for every id in `ids`, all at the same time, in one TaskGroup.

    Return `{"timeouts": [...], "not_found": [...]}`, the sorted ids whose call raised
    TimeoutError and KeyError. Any other error goes on up.
    """
    try:
        async with asyncio.TaskGroup() as group:
            for item_id in ids:
                group.create_task(fetch(item_id))
    except* TimeoutError as errors:
        report["timeouts"] = sorted(report["timeouts"] + [error.args[0] for error in errors.exceptions])
    except* KeyError as errors:
        report["not_found"] = sorted(report["not_found"] + [error.args[0] for error in errors.exceptions])
    return report
