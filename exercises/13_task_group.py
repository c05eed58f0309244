"""Exercise 13: asyncio.TaskGroup, tasks that end together

Why
---
In exercise 05, one failed call meant work by hand: keep every task, cancel the ones
still running, wait for them to stop, then raise. `asyncio.TaskGroup` (Python 3.11) does
all of it for you. Every task started with `group.create_task(...)` inside
`async with asyncio.TaskGroup() as group:` runs at once, and the block does not end until
each one has finished: nothing is left running behind your back. When a task fails, the
group cancels the others, waits for them to stop, and raises an `ExceptionGroup` holding
the error. 4 calls of 2 s take about 2 s; if one of them fails after 0.1 s, you hear about
it after 0.1 s, not 2.

Example (save it as demo.py and run `python demo.py`)
-------
    import asyncio

    async def fetch(x):
        await asyncio.sleep(0.1 if x == 0 else 1)
        if x == 0:
            raise KeyError(x)
        return x * 10

    async def main():
        async with asyncio.TaskGroup() as group:
            one = group.create_task(fetch(1))
            two = group.create_task(fetch(2))
        print(one.result(), two.result())   # 10 20, after 1 s: both ran at once

        try:
            async with asyncio.TaskGroup() as group:
                for x in (0, 1, 2):
                    group.create_task(fetch(x))
        except* KeyError as errors:         # after 0.1 s: fetch(1) and fetch(2) were cancelled
            print("not found:", [error.args[0] for error in errors.exceptions])   # not found: [0]

    asyncio.run(main())

The pitfall
-----------
    try:
        async with asyncio.TaskGroup() as group: ...
    except KeyError:   # never matches: the group raises an ExceptionGroup, even for one error
        ...

Catch a group's errors with `except* KeyError as errors:`. `errors` is an ExceptionGroup
of just the KeyErrors (`errors.exceptions` lists them), and whatever no `except*` clause
matches goes on up by itself. `except Exception` or `except ExceptionGroup` around the
group is how errors you never meant to hide get lost. And read `task.result()` after the
`async with` block, not inside it: in there the task may not have finished yet.

Your tasks
----------
Replace each `raise NotImplementedError` below. Check your work with
`python grade.py` (or `pytest tests/test_13_task_group.py`).
"""


# Task 1: a group of tasks
async def fetch_all(fetch, ids):
    """Call `await fetch(id)` for every id in `ids`, all at the same time, as the tasks of
    one `asyncio.TaskGroup`.

    Return a list of the results, in the same order as `ids`.
    """
    raise NotImplementedError


# Task 2: one part fails, the page fails
async def load_page(loaders, user_id):
    """Load every part of a page at the same time.

    `loaders` maps each part's name to an async function: `await loaders[name](user_id)`
    loads that part. Return a dict mapping each name to what its loader returned.

    If a loader raises, the page cannot be built: the loaders still running must be
    cancelled (and have stopped) before your function ends, and the error must reach your
    caller at once. A TaskGroup does all of this: the ExceptionGroup it raises, holding
    that error, is the expected answer (raising the error itself is accepted too).
    """
    raise NotImplementedError


# Task 3: sort the failures with except*
async def failure_report(fetch, ids):
    """Call `await fetch(id)` for every id in `ids`, all at the same time, in one TaskGroup.

    The values the calls return are not needed here, only what went wrong. Return
    `{"timeouts": [...], "not_found": [...]}`: the ids whose call raised TimeoutError and
    the ids whose call raised KeyError, each list sorted from smallest to largest (each
    such error carries its id: `error.args[0]`). When nothing fails, both lists are empty.

    As in task 2, the first failures stop the calls still running; report the failures the
    group raised. Any other kind of error is not yours to handle: it must reach your caller.
    """
    raise NotImplementedError
