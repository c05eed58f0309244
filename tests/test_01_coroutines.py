"""Exercise 01: await runs a coroutine; calling an async function only creates one."""

import asyncio
import inspect

import pytest

from kata.testing import FakeService, assert_same, assert_started_in_order, describe, holds, same
from kata.testing.letting_run import let_the_code_run
from kata.testing.own_timers import OwnTimersProbe
from kata.testing.services import FakeServices

# Names as the service spells them, which the greeting must keep: each one changes under
# str.title(), str.capitalize(), str.upper() and str.lower(), so that an answer that "tidies" the
# name is caught on every seed (a learner trial's greet used name.strip().title()).
NAMES = ["Guido van Rossum", "John McCarthy", "Ada MacLeod", "Vincent van Gogh", "Leonardo da Vinci"]
STREETS = ["Elm Street", "Mill Lane", "Harbour Road", "Station Road", "Orchard Way"]
AWAIT_IT = "Await each call itself: `await` sleeps until its answer is in, however long that takes."


@pytest.mark.task(1)
async def test_greeting_uses_the_name_the_service_returned(ex, rng, wake_watch):
    user_id = rng.randrange(100, 1000)
    name = rng.choice(NAMES)
    fetch_name = FakeService("fetch_name", delay=0.05, reply=lambda uid: name if uid == user_id else "?")

    # Its own timers are judged by what they do as the call ends (kata.testing.own_timers): a time
    # limit of its own gives up on a slow call, a poll never sees it end.
    async with wake_watch(ex) as wakes:
        with OwnTimersProbe(wakes, "greet", fetch_name) as timers:
            task = asyncio.create_task(ex.greet(fetch_name, user_id))
            greeting = await timers.awaited(task, f"Hello, {name}!", fix=AWAIT_IT)

    assert_same(greeting, f"Hello, {name}!", f"greet(fetch_name, {user_id})")


# Names as a service may spell them, each of which some "tidying" of the name changes: spaces
# before, after and inside it (strip, split and join), letters outside ASCII, precomposed ("ë") and
# written as a letter and an accent ("e" + U+0301: unicodedata.normalize joins them), and case that
# str.title() and the like change. A red team's greet used name.strip(). And an empty name (a user
# who gave none), which is false in an `if`: a learner trial's greet said "Hello, stranger!" for it
# (`name or "stranger"`), where the docstring asks for the name the service gave, whatever it is.
SPELLINGS = [
    "",
    "  Zoë d'Arc ",
    "Mary  Ann  McIntyre",
    "Rene\u0301e van der Berg",
    "Łukasz Żak\t",
    " 李小龍",
]
# And names longer than any length a learner might cut one to (40, 64, 255, 1000, 4096 characters;
# a red team's greet used name[:40]): a real one of 120 characters, and one of over 15,000 made of
# the names above. Every run uses both, in the greeting and in the label.
LONG_NAMES = [
    "Pablo Diego José Francisco de Paula Juan Nepomuceno María de los Remedios Cipriano de la "
    "Santísima Trinidad Ruiz y Picasso",
    " ".join(f"{first} {second}" for first, second in zip(NAMES * 100, reversed(NAMES * 100), strict=True)),
]


def shown(text):
    """A name or greeting as a message shows it: a long one by its start and its length."""
    return repr(text) if len(text) <= 80 else f"{text[:60]!r}... ({len(text)} characters)"


def spelling_changed(given, found, what):
    """How `found` (a str, the learner's greeting or label) changed the name or address `given`:
    the end of a message, in the learner's words."""
    kept = max((n for n in range(len(given) + 1) if given[:n] in found), default=0)
    if not given:
        how = (
            f"it put something of its own in place of the empty {what}. An empty {what} is still the "
            f"{what} the service gave, and goes in as it is: no default for a {what} that is false in "
            f"an `if` (`{what} or 'stranger'`, `if not {what}:`)"
        )
    elif len(given) > 40 and 0 < kept < len(given) and given[:kept].strip():
        how = (
            f"it cut the {what} short, keeping only its first {kept} of {len(given)} characters. "
            f"The {what} goes in whole, however long: no slicing (`[:40]`), no textwrap.shorten"
        )
    else:
        how = (
            f"it changed the {what} (its spaces, its case, its accents or letters). The {what} goes in "
            f"exactly as the service gave it: no .strip(), .title(), split and join, or normalising"
        )
    return f"it returned {shown(found)}: {how}."


@pytest.mark.task(1)
async def test_the_name_is_kept_exactly_as_the_service_spelled_it(ex, rng):
    # A user of their own for each name: whether a name is asked for again is another test's business.
    names = rng.sample(SPELLINGS, len(SPELLINGS)) + LONG_NAMES
    user_ids = rng.sample(range(100, 1000), len(names))
    for user_id, name in zip(user_ids, names, strict=True):
        fetch_name = FakeService("fetch_name", delay=0.02, reply=lambda uid, name=name: name)

        greeting = await ex.greet(fetch_name, user_id)

        expected = f"Hello, {name}!"
        if isinstance(greeting, str) and greeting != expected:
            raise AssertionError(
                f"fetch_name({user_id}) returned the name {shown(name)}, so greet(fetch_name, {user_id}) "
                f"should return {shown(expected)}; {spelling_changed(name, greeting, 'name')}"
            )
        assert_same(greeting, expected, f"greet(fetch_name, {user_id}), the name being {shown(name)}")


@pytest.mark.task(1)
async def test_the_name_is_fetched_once_for_that_user(ex, rng):
    user_id = rng.randrange(100, 1000)
    fetch_name = FakeService("fetch_name", delay=0.05, reply=lambda uid: rng.choice(NAMES))

    await ex.greet(fetch_name, user_id)

    assert_started_in_order(fetch_name, [(user_id,)])


@pytest.mark.task(1)
async def test_each_greeting_asks_for_the_name_again(ex, rng):
    # The user changes their name between greetings: a red team's greet kept each name in a dict
    # at module level, keyed by user_id, and greeted the user by their old name. The second greeting
    # passes the same fetch_name (so a dict keyed by the function too is caught), the third another.
    user_id = rng.randrange(100, 1000)
    names = rng.sample(NAMES, 3)
    current = {"name": names[0]}
    fetch_name = FakeService("fetch_name", delay=0.05, reply=lambda uid: current["name"])
    other_fetch_name = FakeService("fetch_name", delay=0.05, reply=lambda uid: names[2])

    greetings = []
    for number, (service, name) in enumerate(
        [(fetch_name, names[0]), (fetch_name, names[1]), (other_fetch_name, names[2])], start=1
    ):
        current["name"] = name
        asked = len(service.calls)
        greeting = await ex.greet(service, user_id)

        # The exact greeting is another test's business: here, only whether the new name was asked for.
        if number > 1 and (len(service.calls) == asked or greeting in greetings):
            raise AssertionError(
                f"greet(fetch_name, {user_id}) was called a {('second', 'third')[number - 2]} time, after "
                f"the user had changed their name to {name!r}, but greet returned {describe(greeting)}"
                f"{' without calling fetch_name' if len(service.calls) == asked else ', as before'}: "
                "it kept the name from a call before. Call fetch_name every time, and keep nothing "
                "between calls (no dict of names in a variable outside the function)."
            )
        greetings.append(greeting)


# Each answer is derived from the question, so a wrong id gives a visibly wrong label.
def order_record(order_id):
    return {"id": order_id, "customer_id": 100 + order_id % 900, "total": order_id % 97 + 0.5}


def customer_record(customer_id):
    return {"id": customer_id, "name": NAMES[customer_id % len(NAMES)], "address_id": 7000 + customer_id}


def address_text(address_id):
    number = sum(map(ord, str(address_id)))
    return f"{number % 200 + 1} {STREETS[number % len(STREETS)]}"


def label_for(order_id):
    customer = customer_record(order_record(order_id)["customer_id"])
    return f"{customer['name']}, {address_text(customer['address_id'])}"


@pytest.mark.task(2)
async def test_label_has_the_customer_name_and_address(ex, rng, wake_watch):
    order_id = rng.randrange(10_000, 100_000)
    get_order = FakeService("get_order", delay=0.03, reply=order_record)
    get_customer = FakeService("get_customer", delay=0.03, reply=customer_record)
    get_address = FakeService("get_address", delay=0.03, reply=address_text)

    async with wake_watch(ex) as wakes:
        with OwnTimersProbe(wakes, "shipping_label", get_order, get_customer, get_address) as timers:
            task = asyncio.create_task(ex.shipping_label(get_order, get_customer, get_address, order_id))
            label = await timers.awaited(task, label_for(order_id), fix=AWAIT_IT)

    assert_same(label, label_for(order_id), f"shipping_label(..., {order_id})")


# Addresses as a service may spell them, each of which some tidying changes (strip, split and join,
# title case, normalising), and one longer than any length an address might be cut to.
ADDRESS_SPELLINGS = [
    "12 Elm Street\t",
    "  4 Mill Lane",
    "Flat 2,  9 Harbour Road",
    "Straße der Pariser Kommune 7 ",
    "7 rue de l'E\u0301glise",
    "c/o " + ", ".join(f"{n} {street}" for n, street in enumerate(STREETS * 60, start=1)),
]


@pytest.mark.task(2)
async def test_the_label_keeps_the_name_and_address_exactly_as_the_services_spelled_them(ex, rng):
    # Every name and every address of the lists above, each pair in a label of its own, for an order,
    # a customer and an address of its own: the ids each call is given are another test's business.
    names = rng.sample(SPELLINGS, len(SPELLINGS)) + LONG_NAMES
    addresses = rng.sample(ADDRESS_SPELLINGS, len(ADDRESS_SPELLINGS))
    addresses += rng.sample(ADDRESS_SPELLINGS, len(names) - len(addresses))
    order_ids = rng.sample(range(10_000, 100_000), len(names))
    customer_ids = rng.sample(range(100, 1000), len(names))
    for order_id, customer_id, name, address in zip(order_ids, customer_ids, names, addresses, strict=True):
        customer = {"id": customer_id, "name": name, "address_id": 7000 + customer_id}
        services = FakeServices(
            FakeService("get_order", delay=0.02, reply=lambda oid, cid=customer_id: {"customer_id": cid}),
            FakeService("get_customer", delay=0.02, reply=lambda cid, customer=customer: customer),
            FakeService("get_address", delay=0.02, reply=lambda aid, address=address: address),
        )

        label = await ex.shipping_label(
            services["get_order"], services["get_customer"], services["get_address"], order_id
        )

        expected = f"{name}, {address}"
        if isinstance(label, str) and label != expected:
            what = "address" if label.startswith(f"{name}, ") else "name"
            raise AssertionError(
                f"the customer's name was {shown(name)} and get_address gave the address {shown(address)}, "
                f"so shipping_label(..., {order_id}) should return {shown(expected)}; "
                f"{spelling_changed(address if what == 'address' else name, label, what)} The label "
                "holds both exactly as the services gave them."
            )
        assert_same(label, expected, f"shipping_label(..., {order_id}), the name being {shown(name)}")


@pytest.mark.task(2)
async def test_each_call_uses_the_answer_of_the_one_before(ex, rng):
    order_id = rng.randrange(10_000, 100_000)
    services = FakeServices(
        FakeService("get_order", delay=0.03, reply=order_record),
        FakeService("get_customer", delay=0.03, reply=customer_record),
        FakeService("get_address", delay=0.03, reply=address_text),
    )

    await ex.shipping_label(
        services["get_order"], services["get_customer"], services["get_address"], order_id
    )

    customer_id = order_record(order_id)["customer_id"]
    address_id = customer_record(customer_id)["address_id"]
    expected = [("get_order", order_id), ("get_customer", customer_id), ("get_address", address_id)]
    if not same(services.started_args, expected):
        raise AssertionError(
            f"the calls should be get_order({order_id}), get_customer({customer_id}), "
            f"get_address({address_id}), in that order, each with an id read from the answer before "
            f"it; found {services.labels()}"
        )


@pytest.mark.task(2)
async def test_each_label_asks_the_services_again(ex, rng):
    # Between two labels for one order the customer moves house and takes a new name: the second
    # label must show them as they are now, so nothing may be kept from the call before.
    order_id = rng.randrange(10_000, 100_000)
    customer_id = order_record(order_id)["customer_id"]
    customers = {customer_id: customer_record(customer_id)}
    services = FakeServices(
        FakeService("get_order", delay=0.03, reply=order_record),
        FakeService("get_customer", delay=0.03, reply=lambda cid: customers.get(cid) or customer_record(cid)),
        FakeService("get_address", delay=0.03, reply=address_text),
    )
    calls = (services["get_order"], services["get_customer"], services["get_address"], order_id)

    first = await ex.shipping_label(*calls)
    before = customers[customer_id]
    moved = {
        **before,
        "name": rng.choice([name for name in NAMES if name != before["name"]]),
        "address_id": before["address_id"] + rng.randrange(1, 1000),
    }
    customers[customer_id] = moved
    second = await ex.shipping_label(*calls)

    expected = f"{moved['name']}, {address_text(moved['address_id'])}"
    asked = services.started_args.count(("get_customer", customer_id))
    if not same(second, expected) and (same(second, first) or asked < 2):
        times = {0: "never called", 1: "called only once"}.get(asked, f"called {asked} times")
        raise AssertionError(
            f"two labels for order {order_id}: between them, customer {customer_id} moved, and "
            f"get_customer({customer_id}) then answered {moved!r}. The second label should be "
            f"{expected!r}, found {describe(second)}, and get_customer({customer_id}) was {times}: "
            "shipping_label kept an answer from the call before. Make the three calls every time, "
            "and keep nothing between calls."
        )
    assert_same(second, expected, f"the second label for order {order_id}, after the customer moved")


class Unavailable(Exception):
    """A service's error in these tests."""


@pytest.mark.task(2)
@pytest.mark.parametrize("broken", ["get_order", "get_customer", "get_address"])
async def test_an_error_of_any_call_reaches_the_caller(ex, rng, broken):
    order_id = rng.randrange(10_000, 100_000)
    error = Unavailable(f"{broken} is down, try again later")
    replies = {"get_order": order_record, "get_customer": customer_record, "get_address": address_text}
    services = FakeServices(
        *(
            FakeService(name, delay=0.03, reply=reply, fail=(lambda *args: error) if name == broken else None)
            for name, reply in replies.items()
        )
    )

    try:
        label = await ex.shipping_label(
            services["get_order"], services["get_customer"], services["get_address"], order_id
        )
    except Unavailable as raised:
        if holds(raised, error):
            return
        raise
    failed = [call for call in services.calls if call.outcome == "raised"]
    if not failed:
        raise AssertionError(
            f"shipping_label(..., {order_id}) returned {describe(label)} without calling {broken}, "
            f"whose error should have reached the caller; the calls were {services.labels()}"
        )
    raise AssertionError(
        f"{failed[0].label(services.name)} raised {error!r}, but shipping_label returned "
        f"{describe(label)}: the error never reached the caller. Let it go on: no `try`/`except` "
        "around the calls that returns something else instead."
    )


def user_record(user_id):
    return {"id": user_id, "name": f"user-{user_id}"}


def close_all(pending):
    """Throw away whatever make_requests handed back, without running it."""
    for item in pending if isinstance(pending, list) else [pending]:
        if inspect.iscoroutine(item):
            item.close()
        elif isinstance(item, asyncio.Future):
            item.cancel()


def as_coroutines(pending, user_ids):
    """make_requests's result, checked to be a list of one coroutine per id."""
    if inspect.iscoroutine(pending):
        raise AssertionError(
            "make_requests returned a coroutine instead of a list: it must be a plain `def`. "
            "The body of an `async def` function does not run at all until someone awaits it."
        )
    if type(pending) is not list or len(pending) != len(user_ids):
        repeated = [uid for n, uid in enumerate(user_ids) if uid in user_ids[:n]]
        if type(pending) is list and repeated and len(pending) == len(set(user_ids)):
            raise AssertionError(
                f"user_ids was {user_ids}: {repeated[0]} is listed twice, so make_requests should return "
                f"{len(user_ids)} coroutines, one for each id as it is listed; found {len(pending)}. Leave "
                "the repeats in: whoever awaits the list may want each of them."
            )
        raise AssertionError(
            f"make_requests should return a list of {len(user_ids)} coroutines (one per id), "
            f"found {describe(pending)}"
        )
    for item in pending:
        if not inspect.iscoroutine(item):
            raise AssertionError(
                "each item of the list should be a coroutine, what `fetch_user(user_id)` gives "
                f"when it is called without await; found {describe(item)}"
            )
    return pending


@pytest.mark.task(3)
async def test_nothing_runs_until_the_coroutines_are_awaited(ex, rng):
    user_ids = rng.sample(range(100, 1000), 4)
    fetch_user = FakeService("fetch_user", delay=0.02, reply=user_record)

    pending = ex.make_requests(fetch_user, user_ids)
    try:
        await let_the_code_run(0.05)  # long enough for any call already started to show up
        if fetch_user.calls:
            ran = len(fetch_user.calls)
            raise AssertionError(
                f"fetch_user already ran {ran} {'time' if ran == 1 else 'times'} before anyone "
                "awaited the coroutines: make_requests should only create them, not start them."
            )
        as_coroutines(pending, user_ids)
    finally:
        close_all(pending)


@pytest.mark.task(3)
async def test_awaiting_the_coroutines_runs_the_calls_in_that_order(ex, rng):
    user_ids = rng.sample(range(100, 1000), 4)
    fetch_user = FakeService("fetch_user", delay=0.02, reply=user_record)

    pending = ex.make_requests(fetch_user, user_ids)
    try:
        # Awaited last to first: if nothing ran early, the calls start in exactly this order.
        results = [await coro for coro in reversed(as_coroutines(pending, user_ids))]
    finally:
        close_all(pending)

    backwards = user_ids[::-1]
    assert_same(results, [user_record(uid) for uid in backwards], "the coroutines' results, last to first")
    assert_started_in_order(fetch_user, [(uid,) for uid in backwards])


class NotingCalls:
    """A fake `fetch_user` that notes each call the moment it is made, before anything runs, with the
    coroutine it gives back (the FakeService's, which notes when that coroutine runs)."""

    _kata_remote = ()  # judge mode: the learner's code may call it, nothing else

    def __init__(self, service):
        self.service, self.made = service, []

    def __call__(self, user_id):
        coro = self.service(user_id)
        self.made.append((user_id, coro))
        return coro


@pytest.mark.task(3)
async def test_the_list_holds_the_coroutines_fetch_user_gave(ex, rng):
    # "fetch_user(user_id), called but NOT awaited": the calls are made by make_requests, and its list
    # holds what they gave. A red team's make_requests wrapped each call in an `async def` of its own,
    # whose coroutine calls fetch_user only once awaited: a fetch_user that checks its argument, or
    # does anything as it is called, then does it later, or never.
    user_ids = rng.sample(range(100, 1000), 4)
    fetch_user = NotingCalls(FakeService("fetch_user", delay=0.02, reply=user_record))

    pending = ex.make_requests(fetch_user, user_ids)
    try:
        items = as_coroutines(pending, user_ids)
        called = [user_id for user_id, _ in fetch_user.made]
        if called != user_ids:
            raise AssertionError(
                f"make_requests(fetch_user, {user_ids}) returned {len(items)} coroutines, but "
                + (f"called fetch_user for {called}" if called else "never called fetch_user")
                + ": each item of the "
                "list should be what `fetch_user(user_id)` itself gives, called by make_requests for "
                "every id, in order. Call fetch_user in make_requests, without await, and put what "
                "it returns in the list, not a coroutine of your own (an `async def` wrapper) that "
                "calls it later."
            )
        for user_id, item, (_, made) in zip(user_ids, items, fetch_user.made, strict=True):
            if item is not made:
                raise AssertionError(
                    f"make_requests called fetch_user({user_id}), but put another coroutine in its "
                    f"place in the list ({describe(item)}): each item should be the very coroutine "
                    "`fetch_user(user_id)` gave, not one of your own around it."
                )
    finally:
        close_all(pending)
        close_all([made for _, made in fetch_user.made])


@pytest.mark.task(3)
async def test_no_ids_give_an_empty_list(ex):
    fetch_user = FakeService("fetch_user", delay=0.02, reply=user_record)

    pending = ex.make_requests(fetch_user, [])
    try:
        assert_same(as_coroutines(pending, []), [], "make_requests(fetch_user, [])")
    finally:
        close_all(pending)


@pytest.mark.task(3)
async def test_an_id_listed_twice_gets_a_coroutine_each_time(ex, rng):
    user_ids = rng.sample(range(100, 1000), 3)
    repeated = rng.choice(user_ids)
    user_ids.insert(rng.randint(user_ids.index(repeated) + 1, len(user_ids)), repeated)
    fetch_user = FakeService("fetch_user", delay=0.02, reply=user_record)

    pending = ex.make_requests(fetch_user, user_ids)
    try:
        results = [await coro for coro in as_coroutines(pending, user_ids)]
    finally:
        close_all(pending)

    assert_same(results, [user_record(uid) for uid in user_ids], "the coroutines' results, in order")
    assert_started_in_order(fetch_user, [(uid,) for uid in user_ids])
