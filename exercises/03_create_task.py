"""Exercise 03: asyncio.create_task, work in the background

Why
---
`gather` waits for a whole batch at once. Often you want something looser: start a
slow call now, carry on with other work, and pick up its answer later.
`asyncio.create_task(coro)` hands the coroutine to the event loop, which starts it
as soon as your code next waits on something, and gives you back an `asyncio.Task`.
`await task` when you need the result; if the task has already finished, that costs
nothing. A 2 s download running as a task while you await 2 s of other calls takes
about 2 s in all, not 4.

Example (save it as demo.py and run `python demo.py`)
-------
    import asyncio, time

    async def slow_double(x):
        await asyncio.sleep(1)
        return x * 2

    async def main():
        start = time.perf_counter()
        task = asyncio.create_task(slow_double(21))   # starts in the background
        other = await slow_double(1)                  # meanwhile: 1 s of other work
        result = await task                           # already done: no extra wait
        print(result, other, f"{time.perf_counter() - start:.1f} s")   # 42 2 1.0 s

    asyncio.run(main())

The pitfall
-----------
    asyncio.create_task(write_log(entry))   # fire and forget: nobody keeps or awaits it

The event loop keeps only a weak reference to a task, so one that nobody holds can be
garbage-collected before it finishes. If it fails, its error is lost ("Task exception
was never retrieved"); if your function returns first, the work may be half done.
Keep every task in a variable or a list and `await` it before you are done.
And without `create_task`, `coro = slow_double(21)` starts nothing at all: a bare
coroutine runs only when it is awaited, so it cannot work in the background.

Your tasks
----------
Replace each `raise NotImplementedError` below. Check your work with
`python grade.py` (or `pytest tests/test_03_create_task.py`).
"""


# Task 1: load the news in the background
async def load_dashboard(fetch_news, fetch_user, fetch_inbox, user_id):
    """Build a dashboard from three slow calls, with the slowest one in the background.

    `await fetch_news()` is slow and needs nothing else, so get it going first. While it
    runs, `await fetch_user(user_id)`, then `await fetch_inbox(user["inbox_id"])` (the inbox
    needs the user, so those two go one after the other).
    Return `{"user": <user>, "inbox": <inbox>, "news": <news>}`.
    If a call raises, let its error reach the caller, but first stop the news task if it is
    still running: cancel it, and wait until it has ended. If the task running load_dashboard
    is cancelled, stop the news task the same way, and end cancelled. Nothing you started
    may still be running when load_dashboard returns or raises.
    """
    raise NotImplementedError


# Task 2: start the downloads, let the caller collect them
async def start_downloads(download, urls):
    """Start `download(url)` for every url as an `asyncio.Task`, and return the tasks right away.

    Return a list of tasks in the same order as `urls`. Do not await them: they must still
    be running when you return. The caller awaits them for the results.
    """
    raise NotImplementedError


# Task 3: no fire and forget
async def save_order(save, audit, order_id):
    """Run `save(order_id)` and `audit(order_id)` at the same time; return what save returned.

    Nobody needs the audit's result, but it must have finished before you return, and if
    it fails, its error must reach your caller. If save raises (or your caller cancels you),
    stop the audit first, then let save's error (or the cancel) go on: nothing you started
    may still be running when save_order returns or raises.
    """
    raise NotImplementedError
