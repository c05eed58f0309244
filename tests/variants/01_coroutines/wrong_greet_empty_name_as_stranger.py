"""Wrong: greet greets a user whose name is empty as "stranger" (`name or 'stranger'`): the greeting holds
the name fetch_name gave, an empty one too (a learner trial's answer)."""
# fails only: test_the_name_is_kept_exactly_as_the_service_spelled_it


# Task 1: await a call and use its answer
async def greet(fetch_name, user_id):
    """Return the greeting `"Hello, <name>!"` for the user `user_id`.

    `await fetch_name(user_id)` gives that user's name (a str), after a short wait.
    """
    name = await fetch_name(user_id)
    return f"Hello, {name or 'stranger'}!"


# Task 2: one call after another, each needing the last
async def shipping_label(get_order, get_customer, get_address, order_id):
    """Return the shipping label `"<customer name>, <address>"` for the order `order_id`.

    Each call needs something from the answer before it:
    - `await get_order(order_id)` gives a dict with the key "customer_id";
    - `await get_customer(customer_id)` gives a dict with the keys "name" and "address_id";
    - `await get_address(address_id)` gives the address, a str such as "12 Elm Street".
    If a call raises, let its error reach the caller.
    """
    order = await get_order(order_id)
    customer = await get_customer(order["customer_id"])
    address = await get_address(customer["address_id"])
    return f"{customer['name']}, {address}"


# Task 3: make the calls, but don't run them
def make_requests(fetch_user, user_ids):
    """Return a list with one coroutine per id: `fetch_user(user_id)`, called but NOT awaited.

    This is a plain `def`: it cannot await, and nothing should run yet. Whoever gets the
    list decides when, and in which order, to await each coroutine. Keep the order of `user_ids`.
    """
    return [fetch_user(user_id) for user_id in user_ids]
