"""Exercise 08: async generators hand out items as they arrive; async for reads them, and can stop early."""

import asyncio
import re
from contextlib import asynccontextmanager, contextmanager

import pytest

from kata.testing import FakeService, assert_same, assert_started_in_order, describe, same
from kata.testing.cancelling import WAIT, Run, assert_ended_after_the_cancel, assert_ended_cancelled
from kata.testing.letting_run import let_the_code_run
from kata.testing.own_timers import OwnTimersProbe

PAGE_DELAY = 0.02  # one page of results
LINE_DELAY = 0.01  # one line of a log stream
# The pages of the long listing, each answered at once: more than a "safety" cap on the page loop
# a learner might pick (range(1, 100), MAX_PAGES = 200). Not far more: in judge mode every page and
# item crosses between the processes (about 1 ms each), and an answer that reads the pages
# recursively (correct, if not wise) nests one generator per page, up to the recursion limit (a
# recursive answer fails at 1001 pages: so a cap of 1000 pages or more goes unseen).
LONG_LISTING = 220
# Its items per page: 1320 items in all, more than a cap on the items yielded a learner might pick
# (MAX_ITEMS = 1000, or 1024).
LONG_PAGE = 6
# The long stream of tasks 2 and 3, each item answered at once: more items read, and more matches,
# than a "safety" cap a learner might pick (100, 1000, 1024). Not 10_000 and more: in judge mode each
# item crosses between the processes twice (its `__anext__`, then the predicate), and 10_050 items
# took 3.3 s (collect_matching) and 3.0 s (first_match) on an idle 2-core machine, against a test's
# time limit of 10 s; 1_500 take about 0.5 s there, and 2 ms in one process.
LONG_STREAM = 1_500
# The page (or line) a test's reader is cancelled while waiting for: it would take this long, so the
# cancel surely lands while it is awaited, even when the cancel crosses to the sandbox (judge mode);
# cancelled, it stops at once, so correct code never waits for it.
AWAITED_WHEN_CANCELLED = 1.0


# Task 1: a paged listing


def make_pages(rng):
    """3 to 5 pages of order ids. Page 2 is shorter than page 1: a short page is not the end."""
    sizes = [rng.randint(3, 4), rng.randint(1, 2), *(rng.randint(1, 4) for _ in range(rng.randint(1, 3)))]
    ids = iter(rng.sample(range(1000, 10000), sum(sizes)))
    return [[f"order-{next(ids)}" for _ in range(size)] for size in sizes]


def page_service(pages, broken=None, delay=PAGE_DELAY):
    """fetch_page(n): page n of `pages`, then one empty page; asking beyond that is a mistake.

    `broken`: (page number, the exception its fetch raises), as when the server is down.
    """
    empty = len(pages) + 1

    def fail(number):
        if type(number) is not int or number < 1:
            return AssertionError(f"fetch_page({number!r}) was called: pages are numbered 1, 2, 3, ...")
        if number > empty:
            return AssertionError(
                f"fetch_page({number}) was called, but page {empty} was already empty: "
                "the first empty page means there are no more, stop there."
            )
        if broken is not None and number == broken[0]:
            return broken[1]
        return None

    def reply(number):
        return list(pages[number - 1]) if number < empty else []

    return FakeService("fetch_page", delay=delay, reply=reply, fail=fail)


def pages_asked(numbers):
    """`page 1`, `pages 1, 2 and 3`, `no page`."""
    if not numbers:
        return "no page"
    if len(numbers) == 1:
        return f"page {numbers[0]}"
    return f"pages {', '.join(map(str, numbers[:-1]))} and {numbers[-1]}"


@contextmanager
def explained(name):
    """Turn the TypeErrors of iterating the wrong kind of thing into advice."""
    try:
        yield
    except TypeError as error:
        text = str(error)
        kind = re.search(r"got (\w+)$|'(\w+)' object is not an async iterator", text)
        if kind:
            kind = kind[1] or kind[2]
            advice = {
                "generator": "a plain generator (`def` with `yield`): make it `async def`, so it can "
                "`await` each page and `async for` can read it.",
                "coroutine": "a coroutine (`async def` without `yield`): `yield` the items one by one "
                "instead of returning them.",
            }.get(kind, f"a {kind}: `yield` the items one by one from an `async def` instead.")
            raise AssertionError(f"{name}(...) returned {advice} (Python said: {text})") from error
        if "'LineStream' object is not iterable" in text:
            raise AssertionError(
                f"{name} read an async stream with a plain `for` (or list(), or a plain comprehension): "
                "use `async for line in items:` or `[line async for line in items]`. "
                f"(Python said: {text})"
            ) from error
        raise


@asynccontextmanager
async def closed_after(stream):
    """Close a stream the test stops reading early, as `async with aclosing(...)` would."""
    try:
        yield stream
    finally:
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            await aclose()


async def read_all(stream, name):
    with explained(name):
        return [item async for item in stream]


@pytest.mark.task(1)
async def test_paginate_yields_every_item_of_every_page_in_order(ex, rng):
    pages = make_pages(rng)
    fetch_page = page_service(pages)

    items = await read_all(ex.paginate(fetch_page), "paginate")

    assert_same(items, [item for page in pages for item in page], "the items paginate yielded")


@pytest.mark.task(1)
async def test_paginate_waits_for_each_page_without_a_clock(ex, rng, wake_watch):
    # Its own timers are judged by what they do as each page comes (kata.testing.own_timers): a
    # time limit of its own (`wait_for(fetch_page(n), 5)`) gives up on a slow page, a poll of the
    # page's task never sees it come; a timer that only logs is fine.
    pages = make_pages(rng)
    fetch_page = page_service(pages)
    fix = "Await each page itself: `page = await fetch_page(number)` sleeps until it comes."
    async with wake_watch(ex) as wakes:
        with OwnTimersProbe(wakes, "paginate", fetch_page) as timers:
            reading = asyncio.create_task(read_all(ex.paginate(fetch_page), "paginate"))
            items = await timers.awaited(reading, [item for page in pages for item in page], fix=fix)

    assert_same(items, [item for page in pages for item in page], "the items paginate yielded")


@pytest.mark.task(1)
async def test_paginate_stops_at_the_first_empty_page(ex, rng):
    pages = make_pages(rng)
    fetch_page = page_service(pages)

    await read_all(ex.paginate(fetch_page), "paginate")

    assert_started_in_order(fetch_page, [(n,) for n in range(1, len(pages) + 2)])


@pytest.mark.task(1)
async def test_paginate_of_an_empty_listing_yields_nothing(ex):
    fetch_page = page_service([])

    items = await read_all(ex.paginate(fetch_page), "paginate")

    assert_same(items, [], "the items paginate yielded when page 1 was empty")
    assert_started_in_order(fetch_page, [(1,)])


@pytest.mark.task(1)
async def test_paginate_hands_out_each_page_before_fetching_the_next(ex, rng):
    pages = make_pages(rng)
    fetch_page = page_service(pages)
    taken = 0

    async with closed_after(ex.paginate(fetch_page)) as stream:
        for number, page in enumerate(pages[:2], start=1):
            for item in page:
                with explained("paginate"):
                    found = await anext(stream)
                taken += 1
                assert_same(found, item, f"item {taken} from paginate")
                await let_the_code_run(LINE_DELAY)
                fetched = [call.args[0] for call in fetch_page.calls]
                if fetched != list(range(1, number + 1)):
                    so_far = f"{taken} item{'s' if taken > 1 else ''}"
                    pages_read = "page 1" if number == 1 else "pages 1 and 2"
                    raise AssertionError(
                        f"the reader had taken {so_far}, all from {pages_read}, but paginate had already "
                        f"fetched pages {', '.join(map(str, fetched))}. Yield each item as soon as its page "
                        "arrives, and fetch the next page only when the reader asks for more: a reader "
                        "that stops early should never wait for pages it does not read."
                    )


@pytest.mark.task(1)
async def test_paginate_reads_a_long_listing_to_its_end(ex, rng):
    pages = [[f"order-{n}-{k}" for k in range(1, LONG_PAGE + 1)] for n in range(1, LONG_LISTING + 1)]
    fetch_page = page_service(pages, delay=0)  # each page at once: the test stays quick
    every_item = [item for page in pages for item in page]

    items = await read_all(ex.paginate(fetch_page), "paginate")

    if len(items) < len(every_item) and same(items, every_item[: len(items)]):
        asked = [call.args[0] for call in fetch_page.calls]
        raise AssertionError(
            f"the listing has {len(pages)} pages of {LONG_PAGE} items ({len(every_item)} in all), then "
            f"an empty one, but paginate stopped after {len(items)} items, having asked for "
            f"{pages_asked(asked) if len(asked) < 3 else f'pages 1 to {max(asked)}'}: it ended the "
            "listing as if it were complete (a cap on the page loop, as `range(1, 100)` or a MAX_PAGES, "
            "or on the items, as a MAX_ITEMS?). The docstring says the first empty page is the end: "
            "loop until a page comes back empty, however many pages and items there are (`while True:`, "
            "or `itertools.count(1)`), and yield every item of every page."
        )
    assert_same(items, every_item, f"the items of a listing of {len(pages)} pages")


@pytest.mark.task(1)
async def test_two_listings_read_side_by_side_each_get_all_their_items(ex, rng):
    listings = [make_pages(rng), make_pages(rng)]
    services = [page_service(pages) for pages in listings]
    streams = [ex.paginate(fetch_page) for fetch_page in services]
    read = [[], []]
    ended = [False, False]

    try:
        while not all(ended):  # one item from each listing in turn, as two readers side by side
            for n, stream in enumerate(streams):
                if not ended[n]:
                    with explained("paginate"):
                        item = await anext(stream, ended)
                    if item is ended:
                        ended[n] = True
                    else:
                        read[n].append(item)
    finally:
        for stream in streams:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()
        for n, fetch_page in enumerate(services):
            asked = [call.args[0] for call in fetch_page.calls]
            if asked != list(range(1, len(asked) + 1)):
                raise AssertionError(
                    "two listings were read side by side, an item from each in turn, and the "
                    f"{('first', 'second')[n]} listing's fetch_page was asked for pages "
                    f"{', '.join(map(str, asked))}: it skipped pages, as if the other listing had "
                    "read them. Both listings shared one page number kept outside paginate (in the "
                    "module, or on the function). Keep the page number in a local variable of "
                    "paginate: each listing then counts its own pages."
                ) from None

    for n, pages in enumerate(listings):
        expected = [item for page in pages for item in page]
        assert_same(
            read[n], expected, f"the items of the {('first', 'second')[n]} of two listings read side by side"
        )


@pytest.mark.task(1)
async def test_each_read_of_a_listing_fetches_its_pages_again(ex, rng):
    # The listing changes between reads, as a live one does: a red team's paginate kept every page in
    # a dict at module level, keyed by (id(fetch_page), page number), and a second read of the same
    # listing fetched nothing and gave the old items. The second read passes the same fetch_page (so
    # a dict keyed by the function too is caught), the third another one.
    pages = make_pages(rng)
    fetch_page = page_service(pages)
    other_pages = [list(page) for page in pages]
    other_fetch_page = page_service(other_pages)
    fresh = iter(rng.sample(range(10000, 100000), 3 * sum(map(len, pages))))

    for number, (service, listing) in enumerate(
        [(fetch_page, pages), (fetch_page, pages), (other_fetch_page, other_pages)], start=1
    ):
        for page in listing:  # the same pages, with items the listing never had before
            page[:] = [f"order-{next(fresh)}" for _ in page]
        before = len(service.calls)

        items = await read_all(ex.paginate(service), "paginate")

        asked = [call.args[0] for call in service.calls[before:]]
        if number > 1 and len(asked) < len(listing) + 1:
            raise AssertionError(
                f"a listing of {len(listing)} pages, then an empty one, was read a "
                f"{('second', 'third')[number - 2]} time, after its items had changed: this time "
                f"paginate asked fetch_page for {pages_asked(asked)} and yielded {items!r}. Keep nothing "
                "from one read to the next (no dict of pages in a variable outside paginate): every "
                "read fetches every page afresh."
            )
        assert_same(
            items, [item for page in listing for item in page], f"the items of read {number} of a listing"
        )


@pytest.mark.task(1)
async def test_paginate_yields_an_item_again_each_time_a_page_holds_it(ex, rng):
    # A red team's paginate skipped the items it had yielded before: every other test's listing
    # holds each item once. A listing may hold one twice (two identical order lines), on one page
    # or on two, and each is an item of its page.
    a, b, c, d = (f"order-{n}" for n in rng.sample(range(1000, 10000), 4))
    pages = [[a, a, b], [c], [b, d, a]]
    fetch_page = page_service(pages)
    every_item = [item for page in pages for item in page]

    items = await read_all(ex.paginate(fetch_page), "paginate")

    if (
        isinstance(items, list)
        and all(type(item) is str for item in items)
        and len(items) < len(every_item)
        and set(items) == set(every_item)
    ):
        raise AssertionError(
            f"the listing's pages are {pages}, then an empty one: {len(every_item)} items, {a!r} three "
            f"times and {b!r} twice (two identical order lines, on one page or on two). paginate yielded "
            f"{items!r}: it skipped items it had yielded before. The docstring asks for every item of "
            "every page: yield each one as its page gives it, with no set (or list) of the items seen "
            "so far, nor a comparison with the one before."
        )
    assert_same(items, every_item, "the items paginate yielded, repeats included")


class PageUnavailable(Exception):
    """The listing server's error in these tests."""


@pytest.mark.task(1)
async def test_an_error_fetching_a_page_reaches_the_reader(ex, rng):
    pages = make_pages(rng)
    number = rng.randint(2, len(pages))
    error = PageUnavailable(f"page {number} could not be loaded: the server is busy")
    fetch_page = page_service(pages, broken=(number, error))
    items = []

    try:
        with explained("paginate"):
            async for item in ex.paginate(fetch_page):
                items.append(item)
    except PageUnavailable as raised:
        if raised is not error:
            raise
        asked = [call.args[0] for call in fetch_page.calls].count(number)
        if asked > 1:
            raise AssertionError(
                f"fetch_page({number}) raised {error!r}, and paginate asked for page {number} "
                f"{asked} times before the error reached the reader: the docstring asks that the "
                "error reach the reader, not that the page be tried again. Whether (and when) to try "
                "again is the reader's choice: call `await fetch_page(number)` once per page, with no "
                "`try`/`except` around it."
            ) from None
        return
    read = len(items)
    got = f"the reader got {read} item{'' if read == 1 else 's'} and no error"
    asked = [call.args[0] for call in fetch_page.calls]
    if number not in asked:
        # The listing ended before the broken page: not a swallowed error, an early stop.
        raise AssertionError(
            f"the listing has {len(pages)} pages, then an empty one; paginate ended after asking for "
            f"{pages_asked(asked)}, never for page {number}: {got}. Stop only at the first empty "
            "page: every page before it, however short, may be followed by more."
        )
    raise AssertionError(
        f"fetch_page({number}) raised {error!r}, but paginate ended the listing there as if it were "
        f"complete: {got}, and cannot tell a listing cut short from a whole one. Let the error of "
        "fetch_page reach the reader: no `try`/`except` around it that returns or stops instead."
    )


@pytest.mark.task(1)
async def test_a_reader_cancelled_while_a_page_loads_ends_cancelled(ex, rng):
    # A red team's paginate caught the CancelledError of `await fetch_page(n)` and returned: the
    # reader's `async for` then ended as if the listing were complete. No other test cancels a reader.
    pages = make_pages(rng)
    number = rng.randint(2, len(pages))
    fetch_page = page_service(pages, delay=lambda n: AWAITED_WHEN_CANCELLED if n == number else PAGE_DELAY)
    items = []

    async def reader():
        with explained("paginate"):
            async for item in ex.paginate(fetch_page):
                items.append(item)
        return f"a list of {len(items)} items"

    moment = f"while paginate awaited fetch_page({number})"
    run = Run(reader())
    fetch_page.on_start = lambda call: call.args == (number,) and run.cancel(moment)
    if not await run.finish(len(pages) * PAGE_DELAY + AWAITED_WHEN_CANCELLED + WAIT):
        await run.stop()
    name = "the reader of paginate's items"
    assert_ended_after_the_cancel(run, name, unreached=f"before paginate asked for page {number}")
    if not run.cancelled and run.error is None:
        raise AssertionError(
            f"the reader's task was cancelled (task.cancel(), as a timeout or a caller that gives up "
            f"does) {moment}, and its `async for` ended as if the listing were complete: the reader "
            f"went on with {len(items)} items, and cannot tell a listing cut short from a whole one. "
            "paginate caught the CancelledError and returned. Do not catch `asyncio.CancelledError` "
            "around `await fetch_page(number)` (nor BaseException, nor a bare `except:`): let it go "
            "on to the reader, whose task then ends cancelled."
        )
    assert_ended_cancelled(run, name, unreached=f"before paginate asked for page {number}")


# Tasks 2 and 3: reading a stream of log lines


class LineStream:
    """An async iterable of log lines (or other items) that arrive one at a time. `taken` counts
    the items read."""

    # In judge mode, all the learner's code may use of it from the other process.
    _kata_remote = ("__aiter__", "__anext__")

    def __init__(self, lines, delay=LINE_DELAY, broken=None):
        self.lines = list(lines)
        self.delay = delay  # seconds, or a function of the ask's number (1, 2, ...)
        # The exception the stream raises, once its lines are read, instead of ending (a dropped
        # connection).
        self.broken = broken
        self.taken = 0
        # The items asked for: one more than `taken` while they are read one at a time, so the
        # number of each ask is the number of the line it waits for; reads at once get their own.
        self.asked = 0
        self.probe = None  # kata.testing.own_timers: each item, its delay over, waits for it
        self.on_ask = None  # a hook, called with the ask's number the moment an item is asked for

    def __aiter__(self):
        return self

    async def __anext__(self):
        if self.taken == len(self.lines) and self.broken is None:
            raise StopAsyncIteration
        self.asked += 1
        number = self.asked
        if self.on_ask is not None:
            self.on_ask(number)
        await asyncio.sleep(self.delay(number) if callable(self.delay) else self.delay)
        if self.taken == len(self.lines):
            raise self.broken
        if self.probe is not None:
            await self.probe.reached_the_end()
        self.taken += 1
        return self.lines[self.taken - 1]


class LineLog:
    """An async iterable of log lines that is not its own iterator: each `async for` over it gets a
    LineStream of its own from `__aiter__`, as a log (or aiohttp's `response.content`) hands a new
    reader to each loop over it (`readers`). `anext(log)` without `aiter(log)` first raises TypeError."""

    # In judge mode, all the learner's code may use of it from the other process.
    _kata_remote = ("__aiter__",)

    def __init__(self, lines):
        self.lines = list(lines)
        self.readers = []

    def __aiter__(self):
        reader = LineStream(self.lines)
        self.readers.append(reader)
        return reader


def not_its_own_iterator(name, error):
    """The failure of `name`, given a LineLog, that asked the log itself for its next item."""
    return AssertionError(
        f"{name} was given an async iterable that is not its own iterator (a log whose `__aiter__` "
        f"hands each reader a new iterator, as aiohttp's `response.content` does), and raised "
        f"{type(error).__name__}: it asked `items` itself for the next item (`anext(items)`, "
        "`items.__anext__()`) without ever calling `aiter(items)`, "
        "which works only when `items` happens to be its own iterator. The docstring promises an async "
        "iterable: read it with `async for`, or take an iterator from it first (`it = aiter(items)`, "
        "then `await anext(it)`)."
    )


def log_line(rng, level):
    return f"{level} request {rng.randrange(10000)} took {rng.randrange(1, 900)} ms"


def make_log(rng, wanted, count):
    """`count` lines; each is `wanted` level or another level at random, both at least twice."""
    others = [level for level in ("INFO", "WARNING", "ERROR") if level != wanted]
    levels = [wanted, wanted, others[0], others[1]]
    levels += [rng.choice([wanted, *others]) for _ in range(count - len(levels))]
    rng.shuffle(levels)
    return [log_line(rng, level) for level in levels]


def level_is(level):
    return lambda line: line.startswith(level + " ")


@pytest.mark.task(2)
async def test_collect_matching_keeps_the_matching_items_in_order(ex, rng):
    wanted = rng.choice(["ERROR", "WARNING"])
    lines = make_log(rng, wanted, 14)
    stream = LineStream(lines)

    with explained("collect_matching"):
        found = await ex.collect_matching(stream, level_is(wanted))

    expected = [line for line in lines if line.startswith(wanted + " ")]
    assert_same(found, expected, f"collect_matching's result (the {wanted} lines)")


@pytest.mark.task(2)
async def test_collect_matching_keeps_matches_that_are_false_in_an_if(ex, rng):
    # The predicate decides, whatever the item: None, 0, "" and False are items like any other. A
    # learner trial's collect_matching skipped None before asking the predicate (`item is not None
    # and predicate(item)`), and so dropped a None the predicate accepts.
    items = [rng.randint(1, 40) for _ in range(8)]
    for falsy in (None, 0, "", False):
        items.insert(rng.randint(0, len(items)), falsy)
    stream = LineStream(items, delay=0)  # each item at once: the test stays quick

    with explained("collect_matching"):
        found = await ex.collect_matching(stream, lambda item: not item)

    expected = [item for item in items if not item]
    if isinstance(found, list) and not same(found, expected):
        lost = [item for item in expected if not any(same(item, kept) for kept in found)]
        if lost:
            raise AssertionError(
                f"the items were {items} and the predicate `not item`, true for {expected}, but "
                f"collect_matching returned {describe(found)}, without {', '.join(map(repr, lost))}: "
                'an item that is false in an `if` (None, 0, "") is an item all the same, and '
                "`predicate(item)` alone decides whether it is kept. Test the predicate's answer, not "
                "the item (no `if item`, no `item is not None`)."
            )
    assert_same(found, expected, "collect_matching's result (the items where `not item`)")


@pytest.mark.task(2)
async def test_collect_matching_of_an_empty_stream_is_an_empty_list(ex):
    with explained("collect_matching"):
        found = await ex.collect_matching(LineStream([]), level_is("ERROR"))

    assert_same(found, [], "collect_matching of an empty stream")


@pytest.mark.task(2)
async def test_each_call_of_collect_matching_gets_a_list_of_its_own(ex, rng):
    wanted = rng.choice(["ERROR", "WARNING"])
    logs = [make_log(rng, wanted, 8), make_log(rng, wanted, 8)]
    expected = [[line for line in lines if line.startswith(wanted + " ")] for lines in logs]

    # Both calls at once (two readers of two logs): a list shared by every call then gets the
    # matches of both, whether or not each call empties it first, in judge mode as in one process.
    with explained("collect_matching"):
        found = await asyncio.gather(
            *(ex.collect_matching(LineStream(lines), level_is(wanted)) for lines in logs)
        )

    for what, result, matches, others in [
        ("first", found[0], expected[0], expected[1]),
        ("second", found[1], expected[1], expected[0]),
    ]:
        if isinstance(result, list) and any(line in others for line in result):
            raise AssertionError(
                f"collect_matching was called twice at the same time, on two streams with "
                f"{len(expected[0])} and {len(expected[1])} {wanted} lines, and the {what} call's list "
                f"held lines of the other stream too ({len(result)} lines): both calls added to one list "
                "that outlives them (a list kept in the module, or a default argument such as `found=[]`, "
                "made once when `def` runs; emptying it at the start of each call does not help when "
                "two calls run at once, nor does it stop the next call from changing a list already "
                "returned). Make a new list inside the function each time."
            )
        assert_same(result, matches, f"the {what} call's result (its {wanted} lines)")


@pytest.mark.task(2)
async def test_collect_matching_reads_a_long_stream_to_its_end(ex, rng):
    items = rng.sample(range(10**6), LONG_STREAM)
    skip = rng.randint(15, 25)  # about one item in 20 does not match
    condition = f"n % {skip} != 0"
    stream = LineStream(items, delay=0)  # each item at once: the test stays quick

    with explained("collect_matching"):
        found = await ex.collect_matching(stream, lambda n: n % skip != 0)

    expected = [n for n in items if n % skip != 0]
    if isinstance(found, list) and len(found) < len(expected) and same(found, expected[: len(found)]):
        raise AssertionError(
            f"a stream of {len(items)} items, {len(expected)} of them matching (`{condition}`), and "
            f"collect_matching returned only the first {len(found)} matches, having read {stream.taken} "
            "items: it stopped before the stream ended (a cap on the items read or the matches kept, as "
            "a MAX_ITEMS?). The docstring asks for every matching item: read with `async for` until the "
            "stream ends, with no limit of your own (a caller who wants fewer stops reading itself)."
        )
    assert_same(
        found, expected, f"collect_matching's result for a stream of {len(items)} items (`{condition}`)"
    )


@pytest.mark.task(2)
async def test_collect_matching_reads_an_async_iterable_that_is_not_its_own_iterator(ex, rng):
    # A red team's collect_matching and first_match pulled items with `anext(items)`, never calling
    # `aiter(items)`: every other test's LineStream is its own iterator, so that passed.
    wanted = rng.choice(["ERROR", "WARNING"])
    lines = make_log(rng, wanted, 10)
    log = LineLog(lines)

    try:
        found = await ex.collect_matching(log, level_is(wanted))
    except (TypeError, AttributeError) as error:
        if log.readers:
            raise
        raise not_its_own_iterator("collect_matching", error) from None

    assert_same(found, [line for line in lines if line.startswith(wanted + " ")], "collect_matching's result")


class UnreadableLine(Exception):
    """The error of a predicate in these tests that cannot judge an item."""


def predicate_that_fails_on(broken, level, error):
    """level_is(level), but it raises `error` for the line `broken` (a line it cannot read)."""

    def matches(line):
        if line == broken:
            raise error
        return line.startswith(level + " ")

    return matches


def predicate_error_advice(name):
    return (
        "An item the predicate could not judge is not an item that fails to match: let its error go "
        f"on to the caller of {name} (no `try`/`except` around `predicate(item)`): the caller then "
        "learns that its predicate broke, and on which item."
    )


@pytest.mark.task(2)
async def test_collect_matching_lets_an_error_of_the_predicate_reach_the_caller(ex, rng):
    # A red team's collect_matching took a predicate that raises for "no match": every other
    # test's predicate answers for every item.
    wanted = rng.choice(["ERROR", "WARNING"])
    lines = make_log(rng, wanted, 12)
    position = rng.randint(3, 8)
    broken = lines[position] = f"{wanted} request ### took ?? ms (garbled)"
    error = UnreadableLine(f"cannot read line {position + 1}: {broken!r}")
    predicate = predicate_that_fails_on(broken, wanted, error)

    try:
        with explained("collect_matching"):
            found = await ex.collect_matching(LineStream(lines), predicate)
    except UnreadableLine as raised:
        if raised is not error:
            raise
        return
    raise AssertionError(
        f"the predicate raised {error!r} for line {position + 1} of {len(lines)}, and collect_matching "
        f"returned {describe(found)}: the error never reached the caller, who takes that list for every "
        f"{wanted} line. {predicate_error_advice('collect_matching')}"
    )


class StreamDropped(ConnectionError):
    """The error of a log stream in these tests whose connection dropped."""


def stream_error_advice(name):
    return (
        "An error of the stream is not its end (only StopAsyncIteration is): let it go on to the "
        f"caller of {name} (no `try`/`except` around the `async for`, or around `anext`, that stops "
        "or returns instead): the caller then learns that the stream broke, and may read it again."
    )


def cancelled_mid_stream(ex, name, stream, predicate, position):
    """A Run of ex.<name>(stream, predicate), cancelled the moment it asks for item `position`,
    whose wait is long: the cancel lands while it awaits the stream, as a timeout's would."""
    stream.delay = lambda n: AWAITED_WHEN_CANCELLED if n == position else LINE_DELAY
    moment = f"while it waited for line {position} of {len(stream.lines)}"
    run = Run(getattr(ex, name)(stream, predicate))
    stream.on_ask = lambda n: n == position and run.cancel(moment)
    return run


async def assert_cancelled_mid_stream(run, name, position, lost):
    """Fail unless ex.<name>, run by `run`, ended cancelled; `lost`: what its caller would take a
    result for (sentences)."""
    if not await run.finish(position * LINE_DELAY + AWAITED_WHEN_CANCELLED + WAIT):
        await run.stop()
    with explained(name):
        assert_ended_cancelled(
            run,
            name,
            unreached=f"before it asked for line {position}",
            cancel_advice=f"{lost} Read with `async for`, and let a cancel of the read go on to the caller.",
        )


@pytest.mark.task(2)
async def test_collect_matching_cancelled_mid_stream_ends_cancelled(ex, rng):
    # A red team's collect_matching caught the CancelledError and returned the lines matched so
    # far, as if the stream had ended: no other test cancels it.
    wanted = rng.choice(["ERROR", "WARNING"])
    lines = make_log(rng, wanted, 14)
    position = rng.randint(6, 12)
    run = cancelled_mid_stream(ex, "collect_matching", LineStream(lines), level_is(wanted), position)

    await assert_cancelled_mid_stream(
        run,
        "collect_matching",
        position,
        f"A list of the lines read before the cancel is not the list of every {wanted} line: whoever "
        "gets it cannot tell it from one of a whole log.",
    )


@pytest.mark.task(2)
async def test_collect_matching_lets_an_error_of_the_stream_reach_the_caller(ex, rng):
    # A red team's collect_matching took an error of the stream for its end, and returned the lines
    # matched so far: no other test's stream breaks.
    wanted = rng.choice(["ERROR", "WARNING"])
    lines = make_log(rng, wanted, rng.randint(6, 10))
    error = StreamDropped(f"the log stream dropped after line {len(lines)}: connection reset")

    try:
        with explained("collect_matching"):
            found = await ex.collect_matching(LineStream(lines, broken=error), level_is(wanted))
    except StreamDropped as raised:
        if raised is not error:
            raise
        return
    raise AssertionError(
        f"the stream raised {error!r} when asked for the line after line {len(lines)} (its "
        f"connection dropped), and collect_matching returned {describe(found)}: the error never "
        f"reached the caller, who takes that list for every {wanted} line of the log, though the rest "
        f"of the log was never read. {stream_error_advice('collect_matching')}"
    )


def log_with_first_error_at(rng, position, count):
    """`count` lines whose first ERROR line is at `position`, with more ERROR lines after it."""
    before = [log_line(rng, rng.choice(["INFO", "WARNING"])) for _ in range(position)]
    after = make_log(rng, "ERROR", count - position - 1)
    return [*before, log_line(rng, "ERROR"), *after]


@pytest.mark.task(3)
async def test_first_match_returns_the_first_matching_item(ex, rng):
    position = rng.randint(2, 8)
    lines = log_with_first_error_at(rng, position, 16)

    with explained("first_match"):
        found = await ex.first_match(LineStream(lines), level_is("ERROR"))

    assert_same(found, lines[position], "first_match's result (the first ERROR line)")


@pytest.mark.task(3)
async def test_first_match_stops_reading_once_it_finds_a_match(ex, rng):
    # Two streams, their first matches at neighbouring lines: code that reads a few lines at a time
    # reads past one of them, whatever its batch size.
    first = rng.randint(2, 7)
    for position in (first, first + 1):
        lines = log_with_first_error_at(rng, position, 16)
        stream = LineStream(lines)

        with explained("first_match"):
            await ex.first_match(stream, level_is("ERROR"))
        await let_the_code_run(2 * LINE_DELAY)  # a line read ahead in a task counts once its wait ends

        if stream.taken != position + 1:
            raise AssertionError(
                f"the first match was line {position + 1} of {len(lines)}, but first_match read "
                f"{stream.taken} lines. Read one line at a time (`async for`), and return (or `break`) "
                "as soon as you find it: each line read after that is a wait for nothing (lines read "
                "two or more at once, with gather, run past a match)."
            )


@pytest.mark.task(3)
async def test_first_match_reads_as_far_as_it_takes_to_find_a_match(ex, rng):
    position = rng.randint(LONG_STREAM - 100, LONG_STREAM - 10)  # the first odd number's place
    items = [2 * n for n in rng.sample(range(10**6), LONG_STREAM)]
    for place in (position, *rng.sample(range(position + 1, LONG_STREAM), 3)):
        items[place] += 1
    stream = LineStream(items, delay=0)  # each item at once: the test stays quick

    with explained("first_match"):
        found = await ex.first_match(stream, lambda n: n % 2 == 1)

    if found is None and stream.taken <= position:
        raise AssertionError(
            f"the first match (`n % 2 == 1`) was item {position + 1} of {len(items)}, but first_match "
            f"returned None after reading {stream.taken} items: it gave up before the stream ended (a "
            "cap on the items read, as a MAX_ITEMS?). The docstring asks for None only when no item "
            "matches: read on with `async for` until an item matches or the stream ends, with no "
            "limit of your own."
        )
    assert_same(
        found,
        items[position],
        f"first_match's result (item {position + 1} of {len(items)}, the first odd one)",
    )


@pytest.mark.task(3)
async def test_first_match_reads_an_async_iterable_that_is_not_its_own_iterator(ex, rng):
    position = rng.randint(2, 8)
    lines = log_with_first_error_at(rng, position, 14)
    log = LineLog(lines)

    try:
        found = await ex.first_match(log, level_is("ERROR"))
    except (TypeError, AttributeError) as error:
        if log.readers:
            raise
        raise not_its_own_iterator("first_match", error) from None

    assert_same(found, lines[position], "first_match's result (the first ERROR line)")


@pytest.mark.task(3)
async def test_first_match_returns_none_when_nothing_matches(ex, rng):
    lines = [log_line(rng, rng.choice(["INFO", "WARNING"])) for _ in range(8)]

    with explained("first_match"):
        found = await ex.first_match(LineStream(lines), level_is("ERROR"))

    assert_same(found, None, "first_match's result when no line matches")


@pytest.mark.task(3)
async def test_first_match_of_an_empty_stream_is_none(ex):
    with explained("first_match"):
        found = await ex.first_match(LineStream([]), level_is("ERROR"))

    assert_same(found, None, "first_match of an empty stream")


@pytest.mark.task(3)
async def test_first_match_lets_an_error_of_the_predicate_reach_the_caller(ex, rng):
    # The predicate raises for a line before the first match: code that takes that for "no match"
    # returns a later line as the first match.
    position = rng.randint(4, 8)
    lines = log_with_first_error_at(rng, position, 14)
    bad = rng.randint(1, position - 1)
    broken = lines[bad] = "INFO request ### took ?? ms (garbled)"
    error = UnreadableLine(f"cannot read line {bad + 1}: {broken!r}")
    predicate = predicate_that_fails_on(broken, "ERROR", error)

    try:
        with explained("first_match"):
            found = await ex.first_match(LineStream(lines), predicate)
    except UnreadableLine as raised:
        if raised is not error:
            raise
        return
    raise AssertionError(
        f"the predicate raised {error!r} for line {bad + 1} of {len(lines)}, and first_match returned "
        f"{describe(found)}: the error never reached the caller, who takes that for the first match, "
        f"though nobody knows whether line {bad + 1} was one. {predicate_error_advice('first_match')}"
    )


@pytest.mark.task(3)
async def test_first_match_cancelled_mid_stream_ends_cancelled(ex, rng):
    # A red team's first_match caught the CancelledError and returned None: no other test cancels it.
    position = rng.randint(5, 10)
    lines = log_with_first_error_at(rng, position + 2, 16)  # its first match after the cancel
    run = cancelled_mid_stream(ex, "first_match", LineStream(lines), level_is("ERROR"), position)

    await assert_cancelled_mid_stream(
        run,
        "first_match",
        position,
        "A result after a cancel tells the caller what the stream holds, though it was never read to its "
        "end: None says that no line matches.",
    )


@pytest.mark.task(3)
async def test_first_match_lets_an_error_of_the_stream_reach_the_caller(ex, rng):
    # A red team's first_match took an error of the stream for its end, and returned None ("no
    # match"): no other test's stream breaks.
    lines = [log_line(rng, rng.choice(["INFO", "WARNING"])) for _ in range(rng.randint(5, 9))]
    error = StreamDropped(f"the log stream dropped after line {len(lines)}: connection reset")

    try:
        with explained("first_match"):
            found = await ex.first_match(LineStream(lines, broken=error), level_is("ERROR"))
    except StreamDropped as raised:
        if raised is not error:
            raise
        return
    raise AssertionError(
        f"the stream raised {error!r} when asked for the line after line {len(lines)} (its "
        f"connection dropped), before any ERROR line, and first_match returned {describe(found)}: the "
        "error never reached the caller, who takes that for the answer (None: no ERROR line), though "
        f"the rest of the log was never read. {stream_error_advice('first_match')}"
    )


# Items that are false in an `if` (0, "") still match: `predicate(item)` decides, not the item.
FALSY_MATCHES = {
    "zero": (lambda rng: rng.randint(1, 40), 0, "n == 0", lambda n: n == 0),
    "empty_string": (lambda rng: log_line(rng, "INFO"), "", "line == ''", lambda line: line == ""),
}


@pytest.mark.task(3)
@pytest.mark.parametrize("kind", list(FALSY_MATCHES))
async def test_first_match_returns_a_match_that_is_false_in_an_if(ex, rng, kind):
    other, falsy, condition, predicate = FALSY_MATCHES[kind]
    position = rng.randint(2, 6)
    items = [other(rng) for _ in range(position)] + [falsy] + [other(rng) for _ in range(4)] + [falsy]
    # A None before the match, which does not match: an item like any other, not the end of the
    # stream. A learner trial's first_match read with `anext(iterator, None)`, stopped at it and
    # returned None.
    none_at = rng.randrange(position)
    items.insert(none_at, None)
    position += 1
    stream = LineStream(items)

    with explained("first_match"):
        found = await ex.first_match(stream, predicate)

    if found is None and stream.taken == none_at + 1:
        raise AssertionError(
            f"the items were {items} and the predicate `{condition}`: item {none_at + 1}, None, does not "
            f"match, and item {position + 1}, {falsy!r}, is the first that does, but first_match stopped "
            "reading at the None and returned None. None is an item of the stream like any other; the "
            "stream ends only when its iterator raises StopAsyncIteration (and None, the docstring says, "
            "means the whole stream was read and no item matched). `anext(iterator, None)` takes a None "
            "item for the end: read with `async for`, or give anext a default of your own that no item can "
            "be (`end = object()`), or catch StopAsyncIteration."
        )
    if found is None:
        raise AssertionError(
            f"the predicate was `{condition}`, and item {position + 1} of {len(items)}, {falsy!r}, was "
            f"the first to match, but first_match returned None. {falsy!r} is false in an `if`, yet it "
            "matches: test `predicate(item)` itself (or compare with `is not None`), not the item."
        )
    assert_same(found, falsy, f"first_match's result (the first item where `{condition}`)")


async def assert_waited_without_a_clock(function, ex, wake_watch, stream, call):
    """Run `call(stream)` (the learner's `function` reading `stream`), its own timers judged by what
    they do (kata.testing.own_timers): as each item comes they run out (a time limit gives up on
    a stream slower than it), then are held back until the next item is asked for (a task checked
    every few ms never sees its item come); a timer that only logs is fine."""
    async with wake_watch(ex) as wakes:
        with OwnTimersProbe(wakes, function, stream, named="the stream") as timers:
            stream.probe = timers
            fix = "Read with `async for` (or `await anext(...)`), which wakes when the next item arrives."
            with explained(function):
                return await timers.awaited(asyncio.create_task(call(stream)), fix=fix)


@pytest.mark.task(2)
async def test_collect_matching_waits_for_every_item_without_a_clock(ex, rng, wake_watch):
    wanted = rng.choice(["ERROR", "WARNING"])
    lines = make_log(rng, wanted, 8)

    found = await assert_waited_without_a_clock(
        "collect_matching",
        ex,
        wake_watch,
        LineStream(lines),
        lambda s: ex.collect_matching(s, level_is(wanted)),
    )

    assert_same(found, [line for line in lines if line.startswith(wanted + " ")], "collect_matching's result")


@pytest.mark.task(3)
async def test_first_match_waits_for_each_item_without_a_clock(ex, rng, wake_watch):
    position = rng.randint(4, 8)
    lines = log_with_first_error_at(rng, position, 12)

    found = await assert_waited_without_a_clock(
        "first_match", ex, wake_watch, LineStream(lines), lambda s: ex.first_match(s, level_is("ERROR"))
    )

    assert_same(found, lines[position], "first_match's result (the first ERROR line)")
