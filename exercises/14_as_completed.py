"""Exercise 14: as_completed and wait, results as they arrive

Why
---
`gather` hands you every result at the end, when the slowest call is done. Often you
want each answer the moment it exists: show a search hit while the other sources are
still busy, or ask three mirrors for the same file and take whichever answers first.
`asyncio.as_completed(tasks)` gives you the results in the order the calls *finish*:
with calls of 0.1, 1 and 2 s, the first result is yours after 0.1 s, not 2.
`asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)` waits until at least one
task is done and returns two sets, `(done, pending)`: the finished tasks, and the ones
still running.

Example (save it as demo.py and run `python demo.py`)
-------
    import asyncio

    async def fetch(x):
        await asyncio.sleep(x)
        return x

    async def tagged(name, x):   # a result alone does not say which call it came from
        return name, await fetch(x)

    async def main():
        tasks = [asyncio.create_task(tagged(n, x)) for n, x in (("a", 2), ("b", 0.1), ("c", 1))]
        for next_done in asyncio.as_completed(tasks):
            name, value = await next_done
            print(name, value)   # b 0.1 after 0.1 s, then c 1 after 1 s, then a 2 after 2 s

        mirrors = [asyncio.create_task(fetch(x)) for x in (0.3, 0.1, 0.2)]
        done, pending = await asyncio.wait(mirrors, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()                  # the answer is known: stop the slower calls
        await asyncio.gather(*pending, return_exceptions=True)   # ...and wait until they stop
        print(done.pop().result())         # 0.1

    asyncio.run(main())

From Python 3.13, `as_completed` is also an async iterator that hands you the tasks
themselves, so you can tell which call finished without a wrapper:

    async for task in asyncio.as_completed(tasks):   # Python 3.13 and newer
        print(task.result())    # `task` is one of the tasks you made: `task in tasks` holds

The tests accept either form; the `for ... in` form above works on every Python from 3.11.

The pitfall
-----------
    for next_done in asyncio.as_completed([fetch(x) for x in (0.3, 0.1, 0.2)]):
        return await next_done   # 0.1, but the 0.2 and 0.3 calls are still running

Leaving the loop early does not stop the calls you no longer need: they run on with nobody
waiting for them, and their errors are lost. Create the tasks yourself, so that you hold
them, and cancel the ones still running before you return, then wait for them to stop,
in a `finally:` so it happens whatever way you leave.

Your tasks
----------
Replace each `raise NotImplementedError` below. Check your work with
`python grade.py` (or `pytest tests/test_14_as_completed.py`).
"""


# Task 1: handle each result as it arrives
async def process_as_they_arrive(fetch, ids, on_result):
    """Call `await fetch(id)` for every id in `ids`, all at the same time.

    As each call finishes, call `on_result(id, value)` right away, with the id and what
    its call returned: fastest call first, without waiting for the slower ones.
    `on_result` is a plain function: call it, don't await it. Return nothing.
    With no ids, make no call and return at once.
    If a call raises, let its error reach your caller: hand `on_result` only what calls returned.
    If a call raises, or your function is cancelled, first cancel the calls still running and
    wait until they have stopped.
    """
    raise NotImplementedError


# Task 2: the fastest mirror wins
async def first_response(fetch, mirrors):
    """Ask every mirror at once (`await fetch(mirror)`) and return the first answer to arrive.
    `mirrors` always holds at least one mirror.

    Once you have it the other calls are wasted: cancel the ones still running, and wait
    until they have stopped before you return.
    If the first call to finish raised, raise its error (after stopping the others the same way).
    If your function is cancelled, stop the calls the same way, then let the cancel through, so
    that it ends cancelled (even when an answer had arrived meanwhile).
    While the calls run, sleep until one finishes: no checking on them again and again.
    """
    raise NotImplementedError


# Task 3: the fastest answer that worked
async def first_success(fetch, mirrors):
    """Like `first_response`, but a call that raises is skipped: return the first answer of
    a call that returned, cancel the calls still running, and wait until they have stopped.

    If every call fails, raise an `ExceptionGroup` holding all of their exceptions:
    `raise ExceptionGroup("every mirror failed", errors)`. Read the error of every call
    that raised, those you skip too: asyncio reports an error nobody read as lost.
    """
    raise NotImplementedError
