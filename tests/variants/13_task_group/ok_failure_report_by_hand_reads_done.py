"""Correct: failure_report by hand (asyncio.wait until the first error, then cancel the rest),
reading the errors of the calls done when the first error came: those that failed with it are
done too, in judge mode as in one process (a learner trial's answer, once failed in judge mode)."""

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
    """Call `await fetch(id)` for every id in `ids`, all at the same time, in one TaskGroup.

    Return `{"timeouts": [...], "not_found": [...]}`, the sorted ids whose call raised
    TimeoutError and KeyError. Any other error goes on up.
    """
    tasks = [asyncio.create_task(fetch(item_id)) for item_id in ids]
    done = set()
    try:
        if tasks:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    # What failed before the others were cancelled: every call that failed at that same moment
    # is done by now, in one process as in judge mode.
    errors = [task.exception() for task in done if not task.cancelled() and task.exception() is not None]
    report = {"timeouts": [], "not_found": []}
    others = []
    for error in errors:
        if isinstance(error, TimeoutError):
            report["timeouts"].append(error.args[0])
        elif isinstance(error, KeyError):
            report["not_found"].append(error.args[0])
        else:
            others.append(error)
    if others:
        raise ExceptionGroup("other failures", others)
    report["timeouts"].sort()
    report["not_found"].sort()
    return report
