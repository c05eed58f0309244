"""Wrong: failure_report catches `except ExceptionGroup`, sorts the timeouts and KeyErrors, and raises
only the first of the other errors (a red team's answer): when two or more calls fail another way,
the rest never reach the caller."""
# fails only: test_any_other_error_reaches_the_caller

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
async def failure_report(fetch, ids):
    report = {"timeouts": [], "not_found": []}
    try:
        async with asyncio.TaskGroup() as group:
            for item_id in ids:
                group.create_task(fetch(item_id))
    except ExceptionGroup as failures:
        unknown = []
        for error in failures.exceptions:
            if isinstance(error, TimeoutError):
                report["timeouts"].append(error.args[0])
            elif isinstance(error, KeyError):
                report["not_found"].append(error.args[0])
            else:
                unknown.append(error)
        if unknown:
            raise unknown[0]  # noqa: B904 (the answer as the red team wrote it)
    report["timeouts"].sort()
    report["not_found"].sort()
    return report
