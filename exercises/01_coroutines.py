"""Exercise 01: coroutines, async def and await

Why
---
A program that talks to the network spends most of its time waiting for answers.
`async def` marks a function that may wait; inside it, `await` means "pause here
until this answer arrives (and let other work run meanwhile), then carry on with it".
Calling an async function does NOT run it: `fetch(7)` only builds a *coroutine
object*, a call that has not started yet. Nothing happens until something awaits it;
`await fetch(7)` runs it to the end and gives you what it returned.

Example (save it as demo.py and run `python demo.py`)
-------
    import asyncio

    async def slow_double(x):
        print("working on", x)
        await asyncio.sleep(1)
        return x * 2

    async def main():
        coro = slow_double(21)   # prints nothing: this only builds a coroutine
        print(coro)              # <coroutine object slow_double at 0x...>
        result = await coro      # now it runs: "working on 21", then 1 s later...
        print(result)            # 42

    asyncio.run(main())

Each `await` finishes before the next line starts, so async code reads top to bottom
like ordinary code. When each call needs the answer of the one before, that is exactly
right: 3 such calls of 1 s take 3 s, and nothing can make them faster.

The pitfall
-----------
    name = fetch_name(7)             # forgot await: name is a coroutine, not a name
    return f"Hello, {name}!"         # "Hello, <coroutine object fetch_name at 0x...>!"

The call never happened, and Python only warns "coroutine 'fetch_name' was never
awaited" later on. When a value prints as `<coroutine object ...>`, or an error says
`'coroutine' object is not subscriptable`, an `await` is missing.

Your tasks
----------
Replace each `raise NotImplementedError` below. Check your work with
`python grade.py` (or `pytest tests/test_01_coroutines.py`).
"""


# Task 1: await a call and use its answer
async def greet(fetch_name, user_id):
    """Return the greeting `"Hello, <name>!"` for the user `user_id`.

    `await fetch_name(user_id)` gives that user's name (a str), after a short wait.
    """
    raise NotImplementedError


# Task 2: one call after another, each needing the last
async def shipping_label(get_order, get_customer, get_address, order_id):
    """Return the shipping label `"<customer name>, <address>"` for the order `order_id`.

    Each call needs something from the answer before it:
    - `await get_order(order_id)` gives a dict with the key "customer_id";
    - `await get_customer(customer_id)` gives a dict with the keys "name" and "address_id";
    - `await get_address(address_id)` gives the address, a str such as "12 Elm Street".
    If a call raises, let its error reach the caller.
    """
    raise NotImplementedError


# Task 3: make the calls, but don't run them
def make_requests(fetch_user, user_ids):
    """Return a list with one coroutine per id: `fetch_user(user_id)`, called but NOT awaited.

    This is a plain `def`: it cannot await, and nothing should run yet. Whoever gets the
    list decides when, and in which order, to await each coroutine. Keep the order of `user_ids`.
    """
    raise NotImplementedError
