"""Exercise 22: a crawler with one session, a limit, timeouts, retries and a full report.

Every test runs against a real HTTP server on 127.0.0.1 (the `server` fixture).
The crawl tests build a small random site on it (`Site`): pages that answer,
pages that are busy (503) a time or two and then answer, pages that are always
busy, pages that answer another error status (a client error such as 404, or a
server error such as 502, which is not "busy"), and pages slower than the timeout: slow to answer,
or quick to send their headers and slow to send the body. The site knows the
report a correct crawl returns and how many requests each page should get.
Where a test makes the session, a `ResponseWatch` sees every reply it gets, and the
server tells which connection each request came on, so that a request sent on another
session (whatever headers it copied) fails there.
"""

import asyncio
import inspect
import itertools
import math
from collections import Counter
from dataclasses import dataclass, replace
from http import HTTPStatus

import aiohttp
import pytest

from kata.testing import (
    Reply,
    assert_peak_in_flight,
    assert_same,
    clock,
    describe,
    draw_timeline,
    leaves,
    margins,
    same,
    server_cancels,
    stopwatch,
)
from kata.testing.cancelling import Run, assert_ended_cancelled
from kata.testing.charsets import assert_text_as_sent, utf8_json
from kata.testing.clock import EARLY_WAKE
from kata.testing.hang_guard import hang_guard
from kata.testing.letting_run import let_the_code_run
from kata.testing.limits import assert_each_wait_exact, assert_no_time_added
from kata.testing.own_timers import GRACE, OwnTimersProbe
from kata.testing.refill import RefillRounds, spun_said
from kata.testing.responses import (
    ResponseWatch,
    assert_released,
    assert_used_the_session,
    error_pages_that_are_not_json,
    large_error_reply,
)
from kata.testing.server import LoopbackServer, hold_replies_until_requests
from kata.testing.slots import longest_empty_slot
from kata.testing.waiting import QUIET_BEFORE, QUIET_FROM, assert_slept_between

# Every 503 of these tests carries the header busy servers send, telling the client when to try
# again. The docstring's waits are the caller's (backoff, then twice as long each time): code that
# waits as the header says instead (a red team's answer) waits a second where backoff is 0.05 s,
# and for a second where it is hours.
RETRY_AFTER = 1
BUSY_HEADERS = {"Retry-After": str(RETRY_AFTER)}
TIMEOUT = 0.25  # per request, in the crawl tests
SLOW = 1.0  # a slow page answers (or finishes its body) after this long: far past the timeout
LATENCY = (0.02, 0.05)  # every other page answers within this range
ATTEMPTS = 3
BACKOFF = 0.01
# Time measured around the learner's call may run a little past the timeout.
TIMEOUT_SLACK = 0.25
# asyncio may wake a sleeper a hair early; never by more than this.
EARLY = EARLY_WAKE  # asyncio may wake a sleeper a little early (kata.testing.clock)

# Each 503 of the last-attempt test says which attempt it answers (1, 2, ...).
ATTEMPT_HEADER = "X-Kata-Attempt"
OK, FLAKY, BUSY, ERROR = "ok", "flaky", "busy", "error"  # ERROR: another error status than 503
SLOW_PAGE, SLOW_BODY = "slow", "slow_body"  # slow to answer; quick headers, then a slow body
SLOW_KINDS = (SLOW_PAGE, SLOW_BODY)
# An ERROR page answers one of these. Both families, so that retrying every 5xx (not only a
# 503) is caught as surely as retrying every error; 408 and 429 sound like "try again later", and
# are not a 503 either.
CLIENT_ERRORS = (403, 404, 408, 410, 429)
SERVER_ERRORS = (500, 502, 504)
BODY_NOT_TIMED = (
    f". Its headers came at once and its body took {SLOW:.1f} s: the timeout must cover reading the "
    "body too. A timeout around `session.get(url)` alone stops counting once the headers are in, and "
    "`ClientTimeout(sock_read=...)` limits each single read, not the whole reply: put "
    "`await response.json()` inside `async with asyncio.timeout(timeout):` as well."
)
# The refill test: pages of clearly different latencies. Taking pages `limit` at a time, or a
# whole level of the site at a time, leaves slots empty for about REFILL_SLOW - REFILL_FAST while
# pages the crawl already knows wait; its timeout is far past the slow pages.
REFILL_FAST = 0.03
REFILL_SLOW = 0.4
REFILL_TIMEOUT = 1.0
# The test of a large limit holds its replies until that many requests have come, for at most this.
ALL_IN_WITHIN = 0.5
# One shared semaphore refills a slot within a turn of the loop and a request's trip: a few ms,
# tens of ms on a busy machine or in judge mode. Batches leave one empty for about 0.37 s.
EMPTY_SLOT_LIMIT = 0.15
# How long the test waits for a whole crawl before it gives up (each takes under 0.5 s; a crawl
# that deadlocks fails here, in words, rather than at pytest's timeout).
CRAWL_GIVE_UP = 3.0
# The same, where the crawl's own timers are probed: a poll held back is told GRACE s after the
# replies came, and this guard must not cut in first.
PROBED_GIVE_UP = CRAWL_GIVE_UP + GRACE
WAITED_IN_LINE = (
    ". It answers in {latency:.2f} s, far inside the {timeout} s timeout: does your timeout also "
    "count the time a page waits for a free slot? Start it when the request starts."
)


@pytest.fixture
async def server():
    """A real HTTP server on 127.0.0.1, in this test's own event loop."""
    async with LoopbackServer() as loopback:
        yield loopback


def in_turn(*replies):
    """A reply function: the 1st request gets replies[0], the 2nd replies[1], ...; the last repeats."""
    served = itertools.count()

    def reply(_request):
        return replies[min(next(served), len(replies) - 1)]

    return reply


def times(n):
    return {1: "once", 2: "twice"}.get(n, f"{n} times")


def status_name(status):
    """'502 (Bad Gateway)'."""
    return f"{status} ({HTTPStatus(status).phrase})"


def not_retried(status):
    """Why a page that answered `status` (an error status, not 503) is requested once."""
    if status >= 500:
        return (
            f"only a 503 (busy) is worth another try. A {status_name(status)} is a server error too, "
            "but it does not say 'busy, try again later': raise it at once. Retry when the status "
            "is 503 only, not for every status of 500 or more"
        )
    if status in (408, 429):
        return (
            f"only a 503 (busy) is worth another try here. A {status_name(status)} sounds like 'try "
            "again later', but the docstring retries a 503 alone: any other status is raised at once"
        )
    return f"only a 503 (busy) is worth another try: a {status_name(status)} will be a {status} again"


# -- the site ------------------------------------------------------------------


class Page:
    """One page of the site; its kind decides how it answers (see `replies`)."""

    def __init__(self, site, kind, latency, busy=0, status=None):
        self.path = f"/pages/{next(site.numbers)}"
        self.url = site.server.url(self.path)
        self.kind = kind
        self.latency = latency
        self.busy = busy  # FLAKY: how many 503s before the 200
        self.status = status  # ERROR: the status it answers
        self.links = []
        self.note = ""
        self.large_error = False  # an error page too large for aiohttp to free unread

    @property
    def answers(self):
        return self.kind in (OK, FLAKY)

    @property
    def reason(self):
        """What a correct crawl reports for this page when it fails."""
        if self.kind in SLOW_KINDS:
            return "timeout"
        return f"HTTP {503 if self.kind == BUSY else self.status}"

    @property
    def label(self):
        if self.kind == ERROR:
            return f"{self.path} ({self.note or f'a page that answers {status_name(self.status)}'})"
        what = {
            OK: "a page that answers",
            FLAKY: f"a page that answers 503 {times(self.busy)}, then 200",
            BUSY: "a page that always answers 503",
            SLOW_PAGE: f"a page that takes {SLOW:.1f} s, longer than the timeout",
            SLOW_BODY: (
                f"a page that sends its headers at once, then its body over {SLOW:.1f} s, "
                "longer than the timeout"
            ),
        }[self.kind]
        return f"{self.path} ({self.note or what})"

    def replies(self):
        body = {"title": f"page {self.path}", "links": list(self.links)}
        ok = Reply(json=body, delay=self.latency)
        busy = Reply(
            status=503, json={"error": "busy, try again later"}, delay=self.latency, headers=BUSY_HEADERS
        )
        if self.large_error:
            large = large_error_reply(503)
            busy = replace(large, delay=self.latency, headers={**large.headers, **BUSY_HEADERS})
        if self.kind == FLAKY:
            return in_turn(*[busy] * self.busy, ok)
        if self.kind == ERROR:
            return Reply(status=self.status, json={"error": status_name(self.status)}, delay=self.latency)
        return {
            OK: ok,
            BUSY: busy,
            SLOW_PAGE: Reply(json=body, delay=SLOW),
            SLOW_BODY: Reply.slow_body(body, over=SLOW),
        }[self.kind]


class Site:
    """Pages on the test server, their links, and what a correct crawl of them finds."""

    def __init__(self, server, rng):
        self.server = server
        self.rng = rng
        self.numbers = iter(rng.sample(range(100, 1000), 200))
        self.pages = {}  # url -> Page
        self.start = self.add(OK)

    def add(self, kind, latency=None, busy=0, status=None):
        latency = self.rng.uniform(*LATENCY) if latency is None else latency
        if kind == ERROR and status is None:
            status = self.rng.choice(CLIENT_ERRORS + SERVER_ERRORS)
        page = Page(self, kind, latency, busy, status)
        self.pages[page.url] = page
        return page

    def publish(self, wrap=None):
        """Serve every page; `wrap`, when given, makes each page's Reply into the reply function
        served instead."""
        for page in self.pages.values():
            replies = page.replies()
            self.server.serve(page.path, wrap(replies) if wrap and isinstance(replies, Reply) else replies)

    def page(self, url):
        return self.pages.get(url)

    def label(self, url):
        page = self.page(url)
        return page.label if page else repr(url)

    def expected_report(self):
        """Breadth-first from the start page: what a correct crawl reports."""
        fetched, failed = {}, {}
        queue, seen = [self.start], {self.start.url}
        for page in queue:
            if not page.answers:
                failed[page.url] = page.reason
                continue
            fetched[page.url] = list(page.links)
            for link in page.links:
                if link not in seen:
                    seen.add(link)
                    queue.append(self.pages[link])
        return {"fetched": fetched, "failed": failed}

    def expected_requests(self, attempts):
        """How many times a correct crawl requests each page's path."""
        report = self.expected_report()
        reached = [self.pages[url] for part in report.values() for url in part]
        return {page.path: self.requests_for(page, attempts) for page in reached}

    @staticmethod
    def requests_for(page, attempts):
        if page.kind == FLAKY:
            return page.busy + 1
        return attempts if page.kind == BUSY else 1


def random_site(server, rng, *, answering, flaky=0, busy=0, errors=0, slow=0, orphans=0):
    """A random site with cycles, repeated links, and pages no crawl should reach.

    The `errors` pages take turns between client and server errors, so two or more
    cover both; one is either.

    Every page is reachable from the start page through pages that answer, except
    the orphans: only unreachable pages (and slow pages, whose links a crawl never
    sees) link to them.
    """
    site = Site(server, rng)
    others = [site.add(OK) for _ in range(answering - 1)]
    others += [site.add(FLAKY, busy=rng.randint(1, ATTEMPTS - 1)) for _ in range(flaky)]
    others += [site.add(BUSY) for _ in range(busy)]
    families = rng.sample([CLIENT_ERRORS, SERVER_ERRORS], 2)
    others += [site.add(ERROR, status=rng.choice(families[n % 2])) for n in range(errors)]
    # Slow pages of both kinds, a slow body first: a timeout must cover the body as well.
    others += [site.add(SLOW_KINDS[(n + 1) % 2]) for n in range(slow)]
    rng.shuffle(others)
    parents = [site.start]
    for page in others:  # a tree through answering pages: everything is reachable
        rng.choice(parents).links.append(page.url)
        if page.answers:
            parents.append(page)
    linked = [site.start, *others]
    for page in parents:  # cycles: links back and across, to itself, the same link twice
        page.links += rng.choices([p.url for p in linked], k=rng.randint(1, 3))
        if rng.random() < 0.3:
            page.links.append(rng.choice(page.links))
        rng.shuffle(page.links)
    hosts = [p for p in others if p.kind in SLOW_KINDS]
    for n in range(orphans):
        orphan = site.add(OK)
        orphan.note = "a page linked only from pages the crawl cannot fetch"
        orphan.links = rng.sample([p.url for p in linked], 2)
        if n == 0 and not hosts:
            hosts.append(orphan)  # then the other orphans hang from it
        else:
            rng.choice(hosts).links.append(orphan.url)
    site.publish()
    return site


# -- checks --------------------------------------------------------------------


def assert_data(found, expected, what):
    """assert_same, with a coroutine in place of data explained."""
    if inspect.iscoroutine(found):
        raise AssertionError(
            f"{what} is a coroutine, not the data: {describe(found)}. `response.json()` only starts "
            "reading a body that may still be arriving: `await response.json()`."
        )
    assert_same(found, expected, what)


# Text outside ASCII. `server.serve(json=...)` (web.json_response) escapes it (`"Jos\u00e9"`), which
# reads back right whatever charset the client decodes the body with; `utf8_json` sends it as raw
# UTF-8 bytes, as most servers do, and says so in the Content-Type.
NOT_ASCII_PATHS = ("über-uns", "café", "Zürich", "São-Paulo", "naïve", "Ærø", "Łódź")


def not_ascii_links(server, rng):
    """Links with letters outside ASCII, as a page may hold them (not percent-encoded)."""
    return [server.url("/pages/") + path for path in rng.sample(NOT_ASCII_PATHS, 3)]


def read_an_error_page(error, server, function):
    """The plain-words failure when `function` read an error page as a page, else None.

    Every error page here is JSON without 'links', so code that never checks the status
    fails with KeyError: 'links'; say what really happened instead.
    """
    if not any(isinstance(e, KeyError) and e.args == ("links",) for e in leaves(error)):
        return None
    answered = [r for r in server.requests if r.status is not None and r.status >= 400]
    if not answered:
        return None
    first = answered[0]
    more = len({r.path for r in answered} - {first.path})
    others = f" (and an error status for {more} other page{'s' * (more != 1)})" if more else ""
    return AssertionError(
        f"{function} failed with KeyError: 'links'. The server answered {first.status} for "
        f"{server.url(first.path)}{others}, and the code went on to read that error page's body as if "
        "it were a page; an error page has no 'links'. aiohttp does not raise for an error status by "
        "itself: call `response.raise_for_status()` before reading the body. It raises "
        "ClientResponseError for a 4xx or 5xx."
    )


def failure_name(error):
    if isinstance(error, aiohttp.ClientResponseError):
        return f"ClientResponseError (status {error.status}) for {error.request_info.url.path}"
    return type(error).__name__


async def run_crawl(
    ex, site, *, limit, timeout=TIMEOUT, attempts=ATTEMPTS, backoff=BACKOFF, give_up=CRAWL_GIVE_UP
):
    """The learner's report; a plain-words failure if a failing page stopped the crawl, or if it
    had not returned `give_up` s after it began."""

    def too_slow():
        running = sum(1 for r in site.server.requests if r.end is None)
        return (
            f"crawl had not returned after {give_up:.1f} s; a crawl of these {len(site.pages)} pages "
            f"takes well under a second. {len(site.server.requests)} requests had reached the server, and "
            f"{running} of them were still running, with limit={limit}. Is something waiting for what "
            "can never come? A page that keeps its slot of the limit while it waits for the pages it links "
            "to waits forever once every slot is held by a page doing the same: hold the slot for the "
            "request alone (`async with slots:` around fetch_links_retrying, nothing else), and start "
            "the linked pages after it is let go."
        )

    try:
        async with hang_guard(give_up, "22 crawl: a whole crawl returns < CRAWL_GIVE_UP", too_slow):
            report = await ex.crawl(
                site.start.url, limit=limit, timeout=timeout, attempts=attempts, backoff=backoff
            )
    except Exception as error:
        explained = read_an_error_page(error, site.server, "crawl")
        if explained:
            raise explained from error
        page_errors = [e for e in leaves(error) if isinstance(e, aiohttp.ClientResponseError | TimeoutError)]
        if not page_errors:
            raise
        raise AssertionError(
            f"crawl stopped with {failure_name(page_errors[0])} instead of returning its report. "
            "A page that fails goes in report['failed'] with its reason, and the crawl goes on: "
            "catch the failure where that one page is fetched."
        ) from error
    shape = "a dict {'fetched': {url: links}, 'failed': {url: reason}}"
    if type(report) is not dict or sorted(report) != ["failed", "fetched"]:
        raise AssertionError(f"crawl should return {shape}, found {describe(report)}")
    if type(report["fetched"]) is not dict or type(report["failed"]) is not dict:
        raise AssertionError(f"crawl should return {shape}, found {describe(report)}")
    return report


def assert_report(report, site, timeout=TIMEOUT):
    """The report holds every page reached, each in the right part, with its links or reason."""
    expected = site.expected_report()
    fetched, failed = report["fetched"], report["failed"]
    problems = []
    for url, links in expected["fetched"].items():
        if url in fetched:
            if not same(fetched[url], links):
                problems.append(
                    f"report['fetched'] for {site.label(url)} should be its links {describe(links)}, "
                    f"found {describe(fetched[url])}"
                )
        elif url in failed:
            why = (
                f"{site.label(url)} is in 'failed' ({failed[url]!r}), but it answers: it belongs in 'fetched'"
            )
            if failed[url] == "timeout":
                why += WAITED_IN_LINE.format(latency=site.pages[url].latency, timeout=timeout)
                margins.cut_off("22 crawl: a page that answers arrives within the timeout")
            problems.append(why)
        else:
            problems.append(
                f"{site.label(url)} is missing from the report, though a fetched page links to it"
            )
    for url, reason in expected["failed"].items():
        if url in failed:
            if not same(failed[url], reason):
                why = (
                    f"report['failed'] for {site.label(url)} should be {reason!r}, "
                    f"found {describe(failed[url])}"
                )
                if failed[url] == "timeout":  # an error status, which comes far inside the timeout
                    why += WAITED_IN_LINE.format(latency=site.pages[url].latency, timeout=timeout)
                    margins.cut_off("22 crawl: an error status arrives within the timeout")
                problems.append(why)
        elif url in fetched:
            why = f"{site.label(url)} is in 'fetched'; it belongs in 'failed' with reason {reason!r}"
            if site.pages[url].kind == SLOW_BODY:
                why += BODY_NOT_TIMED
            problems.append(why)
        else:
            problems.append(
                f"{site.label(url)} is missing from the report: a page that fails goes in 'failed' "
                f"with its reason ({reason!r}); nothing the crawl reached may be lost"
            )
    for part, found in (("fetched", fetched), ("failed", failed)):
        for url in found:
            if url not in expected["fetched"] and url not in expected["failed"]:
                problems.append(
                    f"report[{part!r}] holds {site.label(url)}, which no page the crawl could fetch links to"
                )
    both = set(fetched) & set(failed)
    if both:
        problems.append(
            f"{site.label(min(both))} is in both 'fetched' and 'failed'; a page is in one of them"
        )
    if problems:
        shown = problems[:6] + ([f"... and {len(problems) - 6} more"] if len(problems) > 6 else [])
        raise AssertionError("the crawl's report is wrong:\n- " + "\n- ".join(shown))


def pages_waiting(server, site):
    """Each page the crawl knew (a fetched page links to it) waits from then until its first
    request: (known at, first start, path), for kata.testing.slots.

    A page is known from the moment the server ended a 200 reply that links to it; a page never
    requested waits to the end (assert_requests says so first).
    """
    requests = [r for r in server.requests if r.end is not None]
    by_path = {page.path: page for page in site.pages.values()}
    first_start, known = {}, {}
    for request in requests:
        first_start[request.path] = min(first_start.get(request.path, request.start), request.start)
        if request.status == 200 and request.path in by_path:
            for link in by_path[request.path].links:
                path = site.pages[link].path
                known[path] = min(known.get(path, request.end), request.end)
    return [(at, first_start.get(path, math.inf), path) for path, at in known.items()]


def answers_timed_out(report, site):
    """The pages that answer that the report has as 'timeout'."""
    expected = site.expected_report()["fetched"]
    return [url for url, reason in report["failed"].items() if reason == "timeout" and url in expected]


def assert_requests(server, site, attempts=ATTEMPTS):
    """Each page was requested exactly as often as it should be: once, plus the retries of a 503."""
    expected = site.expected_requests(attempts)
    found = Counter(request.path for request in server.requests)
    # A page fetched twice through two pages' links is the same mistake, whatever its kind: then an
    # error page requested twice may not have been retried at all (a learner trial's crawl was told
    # it retried a 404 it had only fetched twice, once from each page linking to it).
    answered = {page.url for page in site.pages.values() if page.kind == OK}
    refetched = any(
        found.get(path, 0) > want and site.server.url(path) in answered for path, want in expected.items()
    )
    problems = []
    for path in sorted(expected.keys() | found.keys()):
        want, got = expected.get(path, 0), found.get(path, 0)
        if want == got:
            continue
        page = site.page(site.server.url(path))
        label = page.label if page else path
        if got == 0:
            problems.append(f"{label} was never requested, though a fetched page links to it")
            continue
        if want == 0:
            why = "no page the crawl could fetch links to it"
        elif page.kind == OK:
            why = (
                "each page is fetched once: mark a page as seen when you decide to fetch it, "
                "before its request starts, so no other page's links start it too"
            )
        elif page.kind == ERROR:
            why = not_retried(page.status)
        elif page.kind in SLOW_KINDS:
            why = "only a 503 is retried: a page that timed out fails at once, it would be slow again"
        elif page.kind == BUSY:
            why = (
                f"with attempts={attempts}, a page that stays busy is requested {attempts} times, then fails"
            )
        else:
            why = f"it is retried after each 503 until it answers: {want} requests"
        if refetched and got > want and page.kind != OK:
            why = (
                "pages that answer are requested more than once too, so each may have been fetched "
                "once per page linking to it: mark a page as seen when you decide to fetch it, before "
                f"its request starts. And if it was retried: {why}"
            )
        problems.append(f"{label} was requested {times(got)}, expected {times(want)}: {why}")
    if problems:
        raise AssertionError("the crawl requested the wrong pages:\n- " + "\n- ".join(problems[:6]))


# -- cancelled by the caller ---------------------------------------------------------

NOT_A_TIMEOUT = (
    "A cancel from the caller is not the timeout: only `asyncio.timeout(timeout)` running out is, and it "
    "turns its own cancellation into TimeoutError for you while it lets any other cancellation through."
)


async def cancelled_while_the_server_answers(server, start, name, *, first_reply=None, moment, advice=""):
    """Serve /pages/1; `start(url)` runs the learner's function, and the test cancels it `moment`
    (a request after `first_reply`, when given), as its caller would. Fail unless it ends cancelled."""
    await server_cancels.cancelled_while_the_server_answers(
        server,
        ["/pages/1"],
        lambda urls: start(urls[0]),
        name,
        reply=lambda request: Reply(json={"links": []}),
        moment=moment,
        unreached="without being cancelled (it never waited for a reply the test held back)",
        started="its request",
        first_reply=first_reply,
        advice=advice,
    )


# -- Task 1 --------------------------------------------------------------------


async def fetch_links_in_time(ex, session, url, answers, timeout=1.0):
    """fetch_links' result for a page that `answers` far inside `timeout`; a TimeoutError from it
    fails in plain words, and counts as a failure on time only when it waited the timeout out."""
    with stopwatch() as run:
        try:
            return await ex.fetch_links(session, url, timeout=timeout)
        except TimeoutError as error:
            raised = error
    if run.elapsed >= timeout - EARLY:  # late on a busy machine?
        margins.cut_off("22 fetch_links: a quick reply arrives within the timeout")
    raise AssertionError(
        f"{answers}, far inside timeout={timeout}, but fetch_links raised TimeoutError after "
        f"{run.elapsed:.2f} s: it should give up only when the timeout is up."
    ) from raised


@pytest.mark.task(1)
async def test_fetch_links_returns_the_links_of_the_page(ex, rng, server):
    links = [server.url(f"/pages/{n}") for n in rng.sample(range(100, 1000), rng.randint(2, 6))]
    # One link twice, as pages do: "that list, as it is" keeps it (a learner trial's fetch_links
    # dropped repeats, and only task 3's tests, about the crawl, failed for it).
    repeated = rng.choice(links)
    links.insert(rng.randrange(links.index(repeated) + 1, len(links) + 1), repeated)
    # The URL has a query string, and a fragment (which stays in the client: aiohttp never sends it).
    query = f"?lang=en&page={rng.randrange(2, 99)}&q=a%20b"
    url = server.serve("/pages/1", json={"title": "the first page", "links": links}, delay=0.02)
    url += query + "#top"
    watch = ResponseWatch()

    async with watch.session() as session:
        try:
            result = await fetch_links_in_time(ex, session, url, "the page answers in 0.02 s")
        finally:
            watch.release_all()

    if result != links and result == list(dict.fromkeys(links)):
        raise AssertionError(
            f"the page lists {repeated} twice, and fetch_links returned it once: {describe(result)}. "
            "Return the page's list as it is, repeats included (`return page['links']`): what to do "
            "with a link seen before is the crawl's business, not fetch_links'."
        )
    assert_data(result, links, "fetch_links' result (the page's 'links')")
    assert_used_the_session(watch.connectors, server.requests, "fetch_links")
    if len(server.requests) != 1:
        raise AssertionError(
            f"fetch_links requested the page {times(len(server.requests))}: once is enough "
            "(`session.get(url)`, one request)."
        )
    asked = server.requests[0].args[0]
    if asked != "/pages/1" + query:
        raise AssertionError(
            f"fetch_links was given {url}, and the server was asked for {asked}, not /pages/1{query}: "
            "the URL was taken apart by hand and put back without its query string. The query is part "
            "of the URL the docstring asks you to GET: pass `url` to `session.get(url)` as it is."
        )


@pytest.mark.task(1)
async def test_fetch_links_reads_links_outside_ascii_as_the_server_sent_them(ex, rng, server):
    links = not_ascii_links(server, rng)
    url = server.serve("/pages/1", utf8_json({"title": "Über uns", "links": links}))

    async with aiohttp.ClientSession() as session:
        result = await fetch_links_in_time(ex, session, url, "the page answers at once")

    assert_text_as_sent(result, links, "fetch_links' result (the page's 'links')", then=assert_data)


@pytest.mark.task(1)
@pytest.mark.parametrize(
    "statuses", [CLIENT_ERRORS, (*SERVER_ERRORS, 503)], ids=["client_error_4xx", "server_error_5xx"]
)
async def test_fetch_links_raises_client_response_error_for_an_error_status_and_releases_it(
    ex, rng, server, statuses
):
    # A status of each family every run: code that raises for only one of them fails one of these.
    status = rng.choice(statuses)
    # Too large for aiohttp to free unread: only releasing the reply frees its connection.
    url = server.serve("/pages/2", large_error_reply(status))
    watch = ResponseWatch()

    async with watch.session() as session:
        try:
            result = await fetch_links_in_time(
                ex, session, url, f"the server answers status {status} at once"
            )
        except aiohttp.ClientResponseError as error:
            if error.status != status:
                raise AssertionError(
                    f"the ClientResponseError should carry the reply's status {status}, found {error.status}"
                ) from error
            assert_used_the_session(watch.connectors, server.requests, "fetch_links")
            assert_released(watch, "fetch_links")
            result = error
        except Exception as error:
            explained = read_an_error_page(error, server, "fetch_links")
            if explained:
                raise explained from error
            raise
        finally:
            watch.release_all()

    if not isinstance(result, aiohttp.ClientResponseError):
        raise AssertionError(
            f"the server answered status {status}, but fetch_links returned {describe(result)}. aiohttp "
            "does not raise for an error status by itself: call `response.raise_for_status()`."
        )
    await raises_for_error_pages_that_are_not_json(ex, server, status)


async def raises_for_error_pages_that_are_not_json(ex, server, status):
    """fetch_links raises ClientResponseError for an error status whatever the body says."""
    async with aiohttp.ClientSession() as session:
        for n, (kind, reply) in enumerate(error_pages_that_are_not_json(status).items(), start=5):
            url = server.serve(f"/pages/{n}", reply)
            with_body = f"with status {status} and {kind} ({reply.text!r})"
            try:
                result = await fetch_links_in_time(ex, session, url, f"the server answers {url} at once")
            except aiohttp.ClientResponseError as error:
                if error.status != status:
                    raise AssertionError(
                        f"the server answered {url} {with_body}: the ClientResponseError should carry "
                        f"the reply's status {status}, found {error.status}"
                    ) from error
                continue
            except (ValueError, aiohttp.ClientError) as error:  # json's JSONDecodeError, say
                raise AssertionError(
                    f"the server answered {url} {with_body}, and fetch_links raised "
                    f"{type(error).__name__} ({error}) instead of a ClientResponseError: it read the "
                    "body before it checked the status. An error page's body is often not JSON, "
                    "whatever a page sends (a plain-text or HTML error page, an empty body), and "
                    "reading it fails. Call `response.raise_for_status()` first, and read the body "
                    "only once the status has passed."
                ) from error
            raise AssertionError(
                f"the server answered {url} {with_body}, but fetch_links returned {describe(result)}. "
                "aiohttp does not raise for an error status by itself: call `response.raise_for_status()`."
            )


async def timed_fetch_links(ex, session, url, timeout):
    """fetch_links' result (TimeoutError when it raised that) and how long it took."""
    with stopwatch() as run:
        try:
            result = await ex.fetch_links(session, url, timeout=timeout)
        except TimeoutError:
            result = TimeoutError
    return result, run.elapsed


@pytest.mark.task(1)
async def test_fetch_links_gives_up_after_the_timeout_on_the_headers_and_on_the_body(ex, rng, server):
    timeout = 0.15
    links = [server.url(f"/pages/{n}") for n in rng.sample(range(100, 1000), 3)]
    slow_answer = server.serve("/pages/3", json={"links": links}, delay=SLOW)
    # The headers come at once; the body then arrives in pieces until SLOW.
    slow_body = server.serve("/pages/4", Reply.slow_body({"links": links}, over=SLOW))

    async with aiohttp.ClientSession() as session:
        result, elapsed = await timed_fetch_links(ex, session, slow_answer, timeout)
        if result is not TimeoutError:
            raise AssertionError(
                f"the page takes {SLOW:.1f} s to answer; with timeout={timeout} fetch_links should give "
                f"up after {timeout} s and raise TimeoutError, but it waited {elapsed:.2f} s and "
                f"returned {describe(result)}. Put the request inside `async with asyncio.timeout(timeout):`."
            )
        check_gave_up_in_time(elapsed, timeout)

        result, elapsed = await timed_fetch_links(ex, session, slow_body, timeout)
        if result is not TimeoutError:
            raise AssertionError(
                f"a page slow to answer did time out, but this one sends its headers at once and its "
                f"body over {SLOW:.1f} s: with timeout={timeout} fetch_links should give up after "
                f"{timeout} s and raise TimeoutError, but it waited {elapsed:.2f} s and returned "
                f"{describe(result)}. The timeout must cover the whole reply, the body too. A timeout "
                "around `session.get(url)` alone stops counting once the headers are in, and "
                "`ClientTimeout(sock_read=...)` limits each single read, not the whole reply: put "
                "`await response.json()` inside `async with asyncio.timeout(timeout):` as well."
            )
        check_gave_up_in_time(elapsed, timeout)


# A page this much slower than the timeout: past it, however little. Correct code's timer is due
# that long before the reply can come, and the loop fires it first under any load; only a process
# kept off its core for that long sees both at once (a failure on time).
JUST_AFTER = 0.1
PASS_THE_TIMEOUT_ON = (
    "Pass `timeout` on as it is (`asyncio.timeout(timeout)`), with no time added to it "
    "(`timeout + 0.05`, `timeout * 1.5`)."
)


@pytest.mark.task(1)
async def test_fetch_links_gives_up_on_a_page_just_slower_than_the_timeout(ex, rng, server, wake_watch):
    timeout = round(rng.uniform(0.2, 0.3), 2)
    late = round(timeout + JUST_AFTER, 2)
    links = [server.url(f"/pages/{n}") for n in rng.sample(range(100, 1000), 3)]
    url = server.serve("/pages/late", json={"links": links}, delay=late)

    async with wake_watch(ex) as wakes, aiohttp.ClientSession() as session:
        result, elapsed = await timed_fetch_links(ex, session, url, timeout)

    if result is not TimeoutError:
        check = "22 fetch_links: a page just past the timeout times out"
        margins.over(elapsed, timeout + JUST_AFTER / 2, check)
        raise AssertionError(
            f"the page answered after {late:.2f} s, {JUST_AFTER:.2f} s past the timeout of {timeout} s, "
            f"and fetch_links returned {describe(result)} after {elapsed:.2f} s: a page slower than the "
            f"timeout, however little, raises TimeoutError. {PASS_THE_TIMEOUT_ON}"
        )
    check = "22 fetch_links: no timer of its own runs out once the timeout is up"
    assert_no_time_added(wakes, timeout, "fetch_links", PASS_THE_TIMEOUT_ON, check)


@pytest.mark.task(1)
async def test_fetch_links_keeps_one_timeout_for_the_headers_and_the_body_together(ex, rng, server):
    # The headers come after `half` s, the body over `half` s more: each half fits in the timeout with
    # 0.15 s or more to spare, the whole reply ends TIMEOUT_SLACK past it (the file's margin for a late
    # give-up), so a correct answer has given up before the body is all in.
    timeout = round(rng.uniform(0.55, 0.65), 2)
    half = (timeout + TIMEOUT_SLACK) / 2
    links = [server.url(f"/pages/{n}") for n in rng.sample(range(100, 1000), 3)]
    url = server.serve("/pages/5", replace(Reply.slow_body({"links": links}, over=half), delay=half))

    async with aiohttp.ClientSession() as session:
        result, elapsed = await timed_fetch_links(ex, session, url, timeout)

    if result is not TimeoutError:
        # A correct answer given up on very late (a loaded machine) gets a second run.
        margins.over(
            elapsed,
            timeout + TIMEOUT_SLACK,
            "22 fetch_links: the whole reply gives up < timeout + TIMEOUT_SLACK",
        )
        raise AssertionError(
            f"the page sent its headers after {half:.2f} s and the rest of its body {half:.2f} s later: "
            f"the whole reply took {elapsed:.2f} s, and fetch_links, with timeout={timeout}, returned "
            f"{describe(result)} instead of raising TimeoutError. Each half came within {timeout} s, but "
            "the timeout is for the whole reply: one limit for the headers (`asyncio.wait_for("
            "session.get(url), timeout)`) and then another for the body gives it up to twice as long. "
            "Put the request and `await response.json()` inside one `async with asyncio.timeout(timeout):`."
        )
    check_gave_up_in_time(elapsed, timeout)


def check_gave_up_in_time(elapsed, timeout):
    if margins.under(elapsed, timeout - EARLY, "22 fetch_links: waits >= timeout - EARLY"):
        raise AssertionError(f"fetch_links gave up after {elapsed:.2f} s, before the {timeout} s timeout")
    if margins.over(elapsed, timeout + TIMEOUT_SLACK, "22 fetch_links: gives up < timeout + TIMEOUT_SLACK"):
        raise AssertionError(
            f"fetch_links raised TimeoutError only after {elapsed:.2f} s; the timeout is {timeout} s"
        )


@pytest.mark.task(1)
async def test_a_cancelled_fetch_links_ends_cancelled_not_timed_out(ex, server):
    async with aiohttp.ClientSession() as session:
        await cancelled_while_the_server_answers(
            server,
            lambda url: ex.fetch_links(session, url, timeout=2.0),
            "fetch_links",
            moment="while it waited for the page, long before its timeout of 2.0 s",
            advice=NOT_A_TIMEOUT,
        )


# -- Task 2 --------------------------------------------------------------------


@dataclass
class Retried:
    """What one call of fetch_links_retrying did."""

    result: object  # the links, or the ClientResponseError or TimeoutError it raised
    requests: list  # the server's record of each request for the page, in order
    started: float  # when it was called (kata clock)
    finished: float  # when it returned or raised (kata clock)
    last_reply: float | None  # when the reply to its last request came back
    wakes: object = None  # the wake_watch around the call, when the test asked for one

    def cut_off(self, timeout, check):
        """Note a cut-off (margins.cut_off) if it raised TimeoutError after waiting the timeout out.

        The pages these tests expect an answer from answer (200, 503 or another status) far inside the
        timeout: only a busy machine, or a timeout that covers more than one request, makes that
        happen. A TimeoutError raised sooner is a mistake, and stays a plain failure.
        """
        if isinstance(self.result, TimeoutError) and self.finished - self.started >= timeout - EARLY:
            margins.cut_off(check)


async def fetch_retrying(
    ex, server, page, *, attempts=ATTEMPTS, backoff=BACKOFF, timeout=TIMEOUT, wake_watch=None, leftovers=None
):
    """Run fetch_links_retrying on `page`; an error page read as a page, or a reply never released,
    fails here in plain words. With `wake_watch` (the fixture), the call is watched: the timers and
    pauses its code sets are in `Retried.wakes`. With `leftovers` (the fixture), a task of the
    code's still running the instant it ended fails here, before the reply it holds is blamed."""
    server.reset()
    watch = ResponseWatch()
    wakes = None
    before = leftovers.mark() if leftovers is not None else set()
    left = []

    async def called(call):
        try:
            return await call
        finally:
            if leftovers is not None:
                left.extend(leftovers.at_return(before))

    async with watch.session() as session:
        try:
            started = clock.perf_counter()
            try:
                call = called(ex.fetch_links_retrying(session, page.url, timeout, attempts, backoff))
                if wake_watch is None:
                    result = await call
                else:
                    async with wake_watch(ex) as wakes:
                        result = await call
            except (aiohttp.ClientResponseError, TimeoutError) as error:
                result = error
            except Exception as error:
                explained = read_an_error_page(error, server, "fetch_links_retrying")
                if explained:
                    raise explained from error
                raise
            finished = clock.perf_counter()
            if left:
                await leftovers.stop(before)
                raise left_its_request_running(left, result)
            assert_used_the_session(watch.connectors, server.requests, "fetch_links_retrying")
            assert_released(watch, "fetch_links_retrying")
            # The trace sees a reply as its headers arrive, unless the request itself raised
            # (`raise_for_status=True`); the server's end of the request comes just before.
            replies = [arrival.at for arrival in watch.arrivals]
        finally:
            watch.release_all()
    requests = [r for r in server.requests if r.path == page.path]
    ends = [*replies, *(r.end for r in requests[-1:] if r.end is not None)]
    return Retried(result, requests, started, finished, max(ends, default=None), wakes)


def left_its_request_running(left, result):
    """fetch_links_retrying ended with tasks of its own still running (learner trial AA: its
    request in a task raced with `asyncio.wait(timeout=...)`, cancelled when the time ran out, and
    TimeoutError raised at once: the request stopped, and released its reply, only a step later)."""
    stopping = [f"{task.name}()" for task in left if task.cancelling]
    names = ", ".join(stopping or [f"{task.name}()" for task in left])
    state = "cancelled but not stopped yet" if stopping else "never cancelled"
    ended = f"raised {type(result).__name__}" if isinstance(result, BaseException) else "returned"
    return AssertionError(
        f"fetch_links_retrying {ended} while its task {names} was still running ({state}): the "
        "request went on after it had ended, holding its reply. `task.cancel()` only asks a task to "
        "stop; wait until it has ended before you raise or return. Simpler: no task of your own, and "
        "`async with asyncio.timeout(timeout):` around the `async with session.get(...)` block, which "
        "stops the request before the TimeoutError leaves it."
    )


def timed_out(retried, page):
    """A note for a TimeoutError raised though the page answers far inside the timeout, or ''."""
    if not isinstance(retried.result, TimeoutError):
        return ""
    return (
        f" (fetch_links_retrying raised TimeoutError after {retried.finished - retried.started:.2f} s, "
        f"though the page answers in {page.latency:.2f} s, far inside the {TIMEOUT} s timeout)"
    )


def before_its_request(retried):
    """A note for a TimeoutError raised, after the whole timeout, by a call whose request never
    reached the server, or ''."""
    if not isinstance(retried.result, TimeoutError):
        return ""
    return (
        f" (fetch_links_retrying raised TimeoutError after {retried.finished - retried.started:.2f} s, "
        "before its request reached the server)"
    )


# A busy page's requests each take this long: two 503s and an answer add up past TIMEOUT, though
# each request is far inside it.
BUSY_LATENCY = 0.1


def each_in_time(page, requests, finished, timeout=TIMEOUT):
    """Words for a page reported as timed out though each of its requests took far less than the
    timeout (their attempts together did not), or ''.

    `finished`: when the code under test had given up (its call returned or raised; at the latest,
    the crawl's end). The attempt that timed out is the last request the server saw, or one after it
    that never reached the server: either way it started once the request before the last one had
    ended, and a timeout of its own runs out `timeout` after that at the earliest. Given up no
    sooner, that attempt may have waited its whole timeout out, held back by a busy machine (before
    its request reached the server, or its reply the code): not shown to be a timeout around the
    attempts, so ''.
    """
    done = [r for r in requests if r.end is not None]
    if len(done) < 2 or any(r.end - r.start >= timeout - EARLY for r in done):
        return ""
    before_last = requests[-2].end if len(requests) >= 2 else None
    if before_last is not None and finished - before_last >= timeout - EARLY:
        return ""
    span = max(r.end for r in done) - min(r.start for r in done)
    return (
        f"{page.label} timed out, though each of its {len(done)} requests took about "
        f"{page.latency:.2f} s, far inside the {timeout} s timeout; together, with the waits between "
        f"them, they took {span:.2f} s. The timeout is for the request itself: start it for each "
        "attempt (inside fetch_links), not around all the attempts of a page."
    )


@pytest.mark.task(2)
async def test_a_busy_page_is_tried_again_until_it_answers(ex, rng, server):
    attempts = rng.randint(3, 4)
    site = Site(server, rng)
    flaky = site.add(FLAKY, busy=rng.randint(2, attempts - 1), latency=BUSY_LATENCY)
    flaky.links = [site.start.url, flaky.url]
    site.start.links = [flaky.url]
    site.publish()

    for page in (site.start, flaky):
        retried = await fetch_retrying(ex, server, page, attempts=attempts)
        result, requests = retried.result, retried.requests

        if isinstance(result, BaseException):
            words = isinstance(result, TimeoutError) and each_in_time(page, requests, retried.finished)
            if words:
                raise AssertionError("fetch_links_retrying raised TimeoutError: " + words) from result
            retried.cut_off(
                TIMEOUT, "22 fetch_links_retrying: a page that answers arrives within the timeout"
            )
            raise AssertionError(
                f"{page.label} should be fetched with attempts={attempts}; fetch_links_retrying raised "
                f"{result!r} instead" + timed_out(retried, page)
            ) from result
        assert_data(result, page.links, f"fetch_links_retrying's result for {page.label}")
        want = page.busy + 1
        if len(requests) != want:
            raise AssertionError(
                f"{page.label} was requested {times(len(requests))}, expected {times(want)}: "
                "retry after a 503, and stop as soon as the page answers"
            )


@pytest.mark.task(2)
async def test_fetch_links_retrying_reads_links_outside_ascii_as_the_server_sent_them(ex, rng, server):
    links = not_ascii_links(server, rng)
    busy = Reply(status=503, json={"error": "busy, try again later"}, headers=BUSY_HEADERS)
    url = server.serve("/pages/1", in_turn(busy, utf8_json({"title": "Über uns", "links": links})))

    async with aiohttp.ClientSession() as session:
        # The page answers at once: a timeout of a second is far off.
        result = await ex.fetch_links_retrying(session, url, 1.0, ATTEMPTS, BACKOFF)

    assert_text_as_sent(result, links, "fetch_links_retrying's result (the page's 'links')", then=assert_data)


@pytest.mark.task(2)
async def test_a_page_still_busy_after_every_attempt_raises_its_503_and_releases_every_reply(ex, rng, server):
    attempts = rng.randint(2, 4)
    site = Site(server, rng)
    busy = site.add(BUSY)
    site.publish()
    # Each 503 holds its connection until it is released, and says which attempt it answers.
    large = large_error_reply(503)
    server.serve(
        busy.path,
        in_turn(
            *[
                replace(large, delay=busy.latency, headers={**large.headers, ATTEMPT_HEADER: str(n)})
                for n in range(1, attempts + 1)
            ]
        ),
    )

    retried = await fetch_retrying(ex, server, busy, attempts=attempts)
    result, requests = retried.result, retried.requests

    retried.cut_off(TIMEOUT, "22 fetch_links_retrying: a 503 arrives within the timeout")
    if len(requests) != attempts:
        raise AssertionError(
            f"{busy.label} was requested {times(len(requests))}; with attempts={attempts} it should be "
            f"requested {times(attempts)} in all, retries included, then fail" + timed_out(retried, busy)
        )
    if not isinstance(result, aiohttp.ClientResponseError) or result.status != 503:
        raise AssertionError(
            f"{busy.label} is still busy after {attempts} attempts: fetch_links_retrying should raise "
            f"the last attempt's ClientResponseError (status 503), found {describe(result)}"
        )
    # The error carries its reply's headers (raise_for_status puts them there); one built by hand
    # without them cannot tell, and is not judged on this.
    answered = (result.headers or {}).get(ATTEMPT_HEADER)
    if answered is not None and answered != str(attempts):
        raise AssertionError(
            f"{busy.label} answered 503 to each of its {attempts} attempts, and fetch_links_retrying "
            f"raised the ClientResponseError of attempt {answered} (its reply's {ATTEMPT_HEADER} header "
            f"says so), not the last one's. The docstring says: if the last attempt answers 503 too, "
            "raise its ClientResponseError. Raise the error of the attempt that just failed (a bare "
            "`raise` in its `except` block); an error kept from an earlier attempt is stale."
        )


@pytest.mark.task(2)
async def test_a_page_busy_at_each_of_many_attempts_is_requested_that_many_times(ex, rng, server):
    # 6 to 9 attempts, well above the 2 to 4 of the other tests: `attempts` is the caller's to
    # choose, and a cap of one's own (`min(attempts, 5)`) is seen only above it. The 503s come at
    # once and there is no backoff, so the many attempts take no time.
    attempts = rng.randint(6, 9)
    site = Site(server, rng)
    busy = site.add(BUSY, latency=0.0)
    site.publish()

    retried = await fetch_retrying(ex, server, busy, attempts=attempts, backoff=0.0)
    result, requests = retried.result, retried.requests

    retried.cut_off(TIMEOUT, "22 fetch_links_retrying: a 503 arrives within the timeout")
    if len(requests) != attempts:
        raise AssertionError(
            f"{busy.label} was requested {times(len(requests))}; with attempts={attempts} "
            f"fetch_links_retrying should request it {times(attempts)} in all, retries included, then "
            "fail. `attempts` is the caller's to choose, however large: count up to it as it is, with "
            "no cap of your own (`min(attempts, 5)`)." + timed_out(retried, busy)
        )
    if not isinstance(result, aiohttp.ClientResponseError) or result.status != 503:
        raise AssertionError(
            f"{busy.label} is still busy after {attempts} attempts: fetch_links_retrying should raise "
            f"the last attempt's ClientResponseError (status 503), found {describe(result)}"
        )


@pytest.mark.task(2)
@pytest.mark.parametrize("failure", ["client_error", "server_error", "timeout"])
async def test_another_error_status_or_a_timeout_fails_at_once_without_retries(
    ex, rng, server, failure, leftovers
):
    site = Site(server, rng)
    if failure == "timeout":
        pages = [site.add(SLOW_BODY)]
    else:  # every 4xx, and every 5xx other than 503, of the family: none is "busy"
        statuses = CLIENT_ERRORS if failure == "client_error" else SERVER_ERRORS
        shuffled = rng.sample(statuses, len(statuses))
        pages = [site.add(ERROR, status=status, latency=0.01) for status in shuffled]
    site.publish()

    for page in pages:
        await fails_at_once(ex, server, page, leftovers)


async def fails_at_once(ex, server, page, leftovers):
    """fetch_links_retrying on `page` (an error status other than 503, or too slow) requests it once
    and raises its error."""
    retried = await fetch_retrying(ex, server, page, attempts=ATTEMPTS, leftovers=leftovers)
    result, requests = retried.result, retried.requests

    # Before any count: a busy machine can stretch the first request past the timeout, so that it
    # reaches the server late or never (requested 0 times); that is a failure on time.
    if page.kind == ERROR:
        retried.cut_off(TIMEOUT, "22 fetch_links_retrying: an error status arrives within the timeout")
    if not requests:
        if page.kind != ERROR:  # its timeout ran out before its request left (a busy machine?)
            retried.cut_off(
                TIMEOUT, "22 fetch_links_retrying: its request reaches the server within the timeout"
            )
        raise AssertionError(
            f"{page.label} was never requested: fetch_links_retrying should request it "
            "once, then raise its error"
            + (timed_out(retried, page) if page.kind == ERROR else before_its_request(retried))
        )
    if len(requests) != 1:
        why = (
            not_retried(page.status)
            if page.kind == ERROR
            else "only a 503 (busy) is worth another try: a page that timed out would be slow again"
        )
        raise AssertionError(
            f"{page.label} was requested {times(len(requests))} with attempts={ATTEMPTS}, expected once: "
            f"{why}."
        )
    if page.kind == ERROR:
        expected = f"ClientResponseError (status {page.status})"
        ok = isinstance(result, aiohttp.ClientResponseError) and result.status == page.status
    else:
        expected = "TimeoutError"
        ok = isinstance(result, TimeoutError)
    if not ok:
        body_not_timed = page.kind == SLOW_BODY and not isinstance(result, BaseException)
        raise AssertionError(
            f"for {page.label} fetch_links_retrying should raise {expected}, found {describe(result)}"
            + (BODY_NOT_TIMED if body_not_timed else "")
        )


def as_the_header_said(waits):
    """Words for waits that took the 503's Retry-After header at its word, or ''."""
    if not any(abs(wait - RETRY_AFTER) < 0.1 for wait in waits):
        return ""
    return (
        f" Each 503 said `Retry-After: {RETRY_AFTER}`, and the code waited about that long: the waits "
        "are the caller's (the backoff it passed), whatever the server's headers say."
    )


@pytest.mark.task(2)
async def test_the_wait_before_each_retry_doubles_and_the_last_503_is_raised_at_once(
    ex, rng, server, wake_watch
):
    backoff, attempts = 0.05, 4
    site = Site(server, rng)
    busy = site.add(BUSY, latency=0.01)
    site.publish()

    retried = await fetch_retrying(
        ex, server, busy, attempts=attempts, backoff=backoff, wake_watch=wake_watch
    )
    requests = retried.requests

    retried.cut_off(TIMEOUT, "22 fetch_links_retrying: a 503 arrives within the timeout")
    if len(requests) != attempts:
        raise AssertionError(
            f"{busy.label} was requested {times(len(requests))}; with attempts={attempts} it should be "
            f"requested {times(attempts)} in all, retries included" + timed_out(retried, busy)
        )
    # The client waits after it has the 503, so the server sees a gap at least that long.
    gaps = [later.start - earlier.end for earlier, later in itertools.pairwise(requests)]
    wanted = [backoff * 2**n for n in range(attempts - 1)]
    shown = ", ".join(f"{gap:.2f} s" for gap in gaps)
    expected = ", ".join(f"{want:.2f} s" for want in wanted)
    pairs = list(zip(gaps, wanted, strict=True))
    too_soon = [
        margins.under(gap, want - EARLY, "22 retries: each backoff wait >= its due - EARLY")
        for gap, want in pairs
    ]
    too_late = [
        margins.over(gap, want + 0.15, "22 retries: each backoff wait < its due + 0.15 s")
        for gap, want in pairs
    ]
    if any(too_soon) or any(too_late):
        raise AssertionError(
            f"with backoff={backoff} the waits before the retries should be {expected} (backoff, then "
            f"twice as long each time), found {shown}.{as_the_header_said(gaps)} `await asyncio.sleep("
            "backoff * 2 ** n)` before retry n + 1; retrying at once only adds to the load of a server "
            "that said it is busy."
        )

    # The gaps the server sees allow for a busy machine; the waits the code asks for are exact: the
    # timers of its own it waited on, one after another, between a 503 and the next request
    # (a `call_later` at 1.2 times, a second sleep after the first: a learner trial's, passing on the gaps).
    def waited(seconds, timers, n):
        return (
            f"with backoff={backoff}, fetch_links_retrying waited {seconds:.3f} s before retry {n + 1} "
            f"({timers}); the docstring asks for exactly {wanted[n]:.3f} s there ({expected} in all): "
            "backoff, then twice as long each time, nothing added or taken away (no jitter: the "
            f"caller chose these waits).{as_the_header_said([seconds])} `await asyncio.sleep(backoff "
            "* 2 ** n)` before retry n + 1."
        )

    assert_each_wait_exact(retried.wakes, requests, wanted.__getitem__, waited)
    # The last 503 is raised as soon as it comes (well under 0.01 s). One more wait after it,
    # doubled (0.4 s) or as long as the last wait (0.2 s), is 4 or 2 times this bound.
    late = retried.finished - retried.last_reply
    if margins.over(late, wanted[-1] / 2, "22 retries: the last 503 is raised < half the last wait after it"):
        raise AssertionError(
            f"{busy.label} answered its last 503 (attempt {attempts} of {attempts}), but "
            f"fetch_links_retrying raised it only {late:.2f} s later. No retry follows the last attempt, "
            "so there is nothing to wait for: raise its ClientResponseError as soon as it comes, and "
            "wait only before a retry."
        )


# The test of many retries: a backoff this small, and this many attempts, so that the waits grow to
# 2 ** MANY_WAITS_SEEN times the backoff within a third of a second. The test watches the waits before
# the first MANY_WAITS_SEEN + 1 retries (the last one only as it is asked for), then cancels the call:
# a cap of the code's own on the doubling (`2 ** min(n, 5)`) shows there.
MANY_BACKOFF = 0.001
MANY_ATTEMPTS = 12
MANY_WAITS_SEEN = 8
# How long the test waits for the retries it watches (their waits add up to about 0.26 s).
MANY_WITHIN = 2.0
# The test of a long backoff: far longer than any cap a learner might put on the waits
# (`min(backoff * 2 ** n, 60)`). It is never waited out: the test cancels the call during its first
# wait, LONG_WAIT_WATCHED after the first 503, having seen how long a wait the code asked for.
LONG_BACKOFF = (10_000.0, 100_000.0)
LONG_WAIT_WATCHED = 0.2
# How long the test waits for the first request, which correct code makes at once.
FIRST_REQUEST_WITHIN = 1.0


def twice(n):
    """What wait n + 1 before a retry is, in words."""
    return "backoff itself" if n == 0 else f"backoff * 2 ** {n}, twice the one before"


async def watched_until(run, done, within):
    """Let `run` go on until `done()`, it has ended, or `within` s have passed; True if `done()`."""
    deadline = clock.perf_counter() + within
    while not done() and not run.task.done() and clock.perf_counter() < deadline:
        await asyncio.sleep(0.005)
    return done()


async def cancelled_in_a_wait(run, moment):
    """Cancel `run` (it waits before a retry) and see it end; the time of the cancel (kata clock)."""
    await let_the_code_run(0)
    cancelled_at = clock.perf_counter()
    run.cancel(moment)
    if not await run.finish(longest=2.0):
        await run.stop()
    return cancelled_at


def raise_a_failure_of_its_own(run, server):
    """Raise what the call raised, unless it is the page's 503 (ClientResponseError) or a timeout."""
    error = run.error if run.task.done() else None
    if error is None or isinstance(error, aiohttp.ClientResponseError | TimeoutError):
        return
    explained = read_an_error_page(error, server, "fetch_links_retrying")
    if explained:
        raise explained from error
    raise error


@pytest.mark.task(2)
async def test_the_wait_keeps_doubling_through_many_retries(ex, rng, server, wake_watch):
    site = Site(server, rng)
    busy = site.add(BUSY, latency=0.0)
    site.publish()
    seen = MANY_WAITS_SEEN + 1  # requests: the first, and a retry after each wait watched

    async with aiohttp.ClientSession() as session, wake_watch(ex) as wakes:
        run = Run(ex.fetch_links_retrying(session, busy.url, 2.0, MANY_ATTEMPTS, MANY_BACKOFF))
        reached = await watched_until(
            run, lambda: sum(r.end is not None for r in server.requests) >= seen, MANY_WITHIN
        )
        await let_the_code_run(0.02)  # it has read the last 503 and asked for its next wait
        cancelled_at = await cancelled_in_a_wait(
            run, f"while it waited before retry {seen} (request {seen + 1}), after {seen} 503s"
        )

    raise_a_failure_of_its_own(run, server)
    requests = [r for r in server.requests if r.start < cancelled_at]
    wanted = [MANY_BACKOFF * 2**n for n in range(MANY_ATTEMPTS - 1)]
    call = f"fetch_links_retrying(session, url, 2.0, attempts={MANY_ATTEMPTS}, backoff={MANY_BACKOFF})"
    fix = (
        "The docstring asks for exactly backoff, 2 * backoff, 4 * backoff, and so on, with no end to the "
        "doubling: `await asyncio.sleep(backoff * 2 ** n)` before retry n + 1, whatever n, with nothing "
        "added and no cap of your own on the wait or on `n` (`2 ** min(n, 5)`)."
    )
    # What the code asked for, when each wait is one asyncio.sleep after the request before it (the
    # last may still be pending). A wait before the first request is another test's business.
    pauses = sorted(
        (t for t in wakes.limits if t.pause and not t.thread and t.at < cancelled_at), key=lambda t: t.at
    )
    one_after_each = all(pause.at > r.start for pause, r in zip(pauses, requests, strict=False))
    if len(pauses) in (len(requests) - 1, len(requests)) and one_after_each:
        for n, (pause, want) in enumerate(zip(pauses, wanted, strict=False)):
            if not math.isclose(pause.delay, want, rel_tol=1e-6, abs_tol=1e-9):
                slept = ", ".join(f"{p.delay:g} s" for p in pauses[: n + 1])
                raise AssertionError(
                    f"{call} (a page that answers 503 every time) slept {slept} before its retries "
                    f"({pause.where()}): wait {n + 1} should be {want:g} s, {twice(n)}."
                    f"{as_the_header_said([pause.delay])} {fix}"
                )
    # What the server saw, however the code waits: each retry comes its wait after the 503 before it.
    for n, (earlier, later) in enumerate(itertools.pairwise(requests)):
        gap = later.start - earlier.end
        if margins.under(gap, wanted[n] - EARLY, "22 retries: each doubled wait >= its due - EARLY"):
            raise AssertionError(
                f"{call} (a page that answers 503 every time) made request {n + 2} {gap:.3f} s after the "
                f"503 of request {n + 1}; the wait before it should be {wanted[n]:g} s, {twice(n)}. {fix}"
            )
    if not reached and not run.task.done():
        margins.gave_up(MANY_WITHIN, MANY_WITHIN, "22 retries: 9 doubled waits from 1 ms < MANY_WITHIN")
        raise AssertionError(
            f"{call} (a page that answers 503 every time) had made {len(requests)} requests after "
            f"{MANY_WITHIN:.1f} s; its first {seen} take about {sum(wanted[: seen - 1]):.2f} s with their "
            "waits. Wait backoff * 2 ** n before retry n + 1, no longer."
        )


@pytest.mark.task(2)
async def test_a_long_backoff_is_waited_in_full_and_only_before_a_retry(ex, rng, server, wake_watch):
    backoff = round(rng.uniform(*LONG_BACKOFF), 1)
    site = Site(server, rng)
    busy = site.add(BUSY, latency=0.01)
    site.publish()
    call = f"fetch_links_retrying(session, url, 2.0, attempts={ATTEMPTS}, backoff={backoff})"

    async with aiohttp.ClientSession() as session, wake_watch(ex) as wakes:
        run = Run(ex.fetch_links_retrying(session, busy.url, 2.0, ATTEMPTS, backoff))
        answered = await watched_until(
            run, lambda: any(r.end is not None for r in server.requests), FIRST_REQUEST_WITHIN
        )
        if answered:
            await let_the_code_run(LONG_WAIT_WATCHED)  # it has read the 503 and waits before its retry
        cancelled_at = await cancelled_in_a_wait(run, "while it waited before its first retry")

    raise_a_failure_of_its_own(run, server)
    requests = [r for r in server.requests if r.start < cancelled_at]
    timers = [t for t in wakes.limits if not t.thread and t.at < cancelled_at]
    if not requests:
        pauses = [t for t in timers if t.pause and t.delay > 0]
        if pauses:
            raise AssertionError(
                f"{call} made no request in {FIRST_REQUEST_WITHIN:.1f} s: it waited first "
                f"({pauses[0].where()}), before the page's first request. The docstring asks for a wait "
                "before the 2nd request, the 3rd, and so on, each after a 503: request the page at once, "
                "and wait only before a retry."
            )
        margins.gave_up(FIRST_REQUEST_WITHIN, FIRST_REQUEST_WITHIN, "22 retries: the first request at once")
        raise AssertionError(
            f"{call} made no request in {FIRST_REQUEST_WITHIN:.1f} s: request the page at once, and wait "
            "only before a retry."
        )
    waits = [t for t in timers if t.at > requests[0].start]
    asked = ""
    if waits:
        longest = max(waits, key=lambda t: t.delay)
        asked = f" It asked for {longest.delay:g} s at most ({longest.where()})."
        asked += as_the_header_said([longest.delay])
    fix = (
        "The waits are backoff, 2 * backoff, 4 * backoff..., however long the caller makes them: with no "
        "cap of your own (`min(backoff * 2 ** n, 60)`), `await asyncio.sleep(backoff * 2 ** n)` before "
        "retry n + 1."
    )
    if len(requests) > 1:
        gap = requests[1].start - requests[0].end
        raise AssertionError(
            f"{call}: the page answered 503, and the 2nd request came {gap:.2f} s later; it should come "
            f"after a wait of backoff, {backoff:g} s.{asked} {fix}"
        )
    if waits and longest.delay < backoff * (1 - 1e-9):
        raise AssertionError(
            f"{call}: the page answered 503, and the wait before the 2nd request should be backoff, "
            f"{backoff:g} s.{asked} {fix}"
        )


@pytest.mark.task(2)
async def test_a_cancelled_fetch_links_retrying_ends_cancelled(ex, server):
    busy = Reply(status=503, json={"error": "busy, try again later"}, headers=BUSY_HEADERS)
    async with aiohttp.ClientSession() as session:
        await cancelled_while_the_server_answers(
            server,
            lambda url: ex.fetch_links_retrying(session, url, 2.0, ATTEMPTS, BACKOFF),
            "fetch_links_retrying",
            first_reply=busy,
            moment="while its second attempt (after a 503) waited for the page, long before the timeout",
            advice=NOT_A_TIMEOUT,
        )


@pytest.mark.task(2)
async def test_a_fetch_links_retrying_cancelled_in_its_wait_before_a_retry_ends_cancelled(ex, server):
    # Cancelled while it waits to try again after a 503: a wait that takes the cancel for "try
    # again sooner" (`except asyncio.CancelledError: pass` around the sleep) makes the request the
    # caller no longer wants. The wait is long here, so the cancel falls inside it.
    backoff = 0.5
    busy = Reply(status=503, json={"error": "busy, try again later"}, headers=BUSY_HEADERS)
    answered = itertools.count()
    url = server.serve("/pages/1", lambda request: busy if next(answered) == 0 else Reply(json={"links": []}))
    async with aiohttp.ClientSession() as session:
        run = Run(ex.fetch_links_retrying(session, url, 2.0, ATTEMPTS, backoff))
        async with hang_guard(
            2.0, "22 fetch_links_retrying: its first request < 2 s", "fetch_links_retrying made no request"
        ):
            while not server.requests and not run.task.done():
                await asyncio.sleep(0.005)
        await let_the_code_run(backoff / 5)  # it has read the 503 and waits before its second attempt
        run.cancel(f"while it waited {backoff} s to try again after a 503, before its second attempt")
        if not await run.finish(longest=2.0):
            await run.stop()
    assert_ended_cancelled(
        run,
        "fetch_links_retrying",
        unreached="before its wait to try again (the first attempt's 503 never made it wait)",
        started="its wait",
        cancel_advice=(
            "A cancel during the wait before a retry is the caller's, not a reason to retry sooner: "
            "let it go on, and make no more requests."
        ),
    )
    assert len(server.requests) == 1, (
        f"fetch_links_retrying was cancelled while it waited to try again, and it made "
        f"{len(server.requests) - 1} more request(s) after that: a cancelled function makes no more requests."
    )


# -- Task 3 --------------------------------------------------------------------


@pytest.mark.task(3)
async def test_crawl_reports_every_page_of_a_site_exactly_once(ex, rng, server):
    site = random_site(server, rng, answering=rng.randint(12, 20), orphans=2)

    report = await run_crawl(ex, site, limit=rng.randint(2, 4))

    assert_report(report, site)
    assert_requests(server, site)


# How long after the server's last reply crawl may return: reading that reply and closing the
# session take a few ms (tens in judge mode on a busy machine). A learner trial's crawl slept 0.25 s
# once its session had closed, for its connections to close "gracefully" (old advice: `async with`
# closes them on the way out, and nothing is left to wait for).
RETURNS_WITHIN = 0.1


@pytest.mark.task(3)
async def test_crawl_returns_its_report_as_soon_as_its_last_page_is_in(ex, rng, server):
    site = random_site(server, rng, answering=rng.randint(6, 10))

    report = await run_crawl(ex, site, limit=rng.randint(2, 4))
    returned = clock.perf_counter()

    assert_report(report, site)
    last = max((r.end for r in server.requests if r.end is not None), default=None)
    if last is None:
        return  # no request at all: the report above says what is wrong
    lag = returned - last
    if margins.over(lag, RETURNS_WITHIN, "22 crawl: returns < RETURNS_WITHIN after its last reply"):
        raise AssertionError(
            f"the server sent its last reply, for the last of the {len(site.pages)} pages, and crawl "
            f"returned its report {lag:.2f} s later; reading that reply and closing the session take a "
            "few milliseconds. Something waited after the pages were in: a pause of your own once they "
            "are done (`await asyncio.sleep(0.25)` after the session closes, old advice to let its "
            "connections close: `async with aiohttp.ClientSession()` closes them on the way out, with "
            "nothing left to wait for), or a blocking call. Return the report as soon as the last "
            "page's task is done and the session closed."
        )


@pytest.mark.task(3)
async def test_a_second_crawl_of_the_same_site_reports_it_whole_again(ex, rng, server):
    site = random_site(server, rng, answering=rng.randint(6, 10), orphans=1)
    limit = rng.randint(2, 4)

    first = await run_crawl(ex, site, limit=limit)
    assert_report(first, site)
    second = await run_crawl(ex, site, limit=limit)

    try:
        assert_report(second, site)
    except AssertionError as error:
        raise AssertionError(
            f"the first crawl of this site was right, but a second crawl of it, started once the first had "
            f"returned, was not: {error}\nEach crawl starts afresh: keep the pages a crawl has seen, and "
            "its report, in that call of crawl, not in the module, a class or a default argument."
        ) from None


@pytest.mark.task(3)
async def test_a_page_many_pages_link_to_is_requested_once(ex, rng, server):
    limit = rng.randint(3, 4)
    site = Site(server, rng)
    # The hubs finish together, each linking to the same shared pages (and to each other).
    hubs = [site.add(OK, latency=0.05) for _ in range(limit)]
    shared = [site.add(OK) for _ in range(3)]
    site.start.links = [hub.url for hub in hubs]
    for hub in hubs:
        hub.links = [p.url for p in shared] + [p.url for p in rng.sample(hubs, 2)] + [site.start.url]
        rng.shuffle(hub.links)
    for page in shared:
        page.links = [page.url, page.url, rng.choice(hubs).url]
    site.publish()

    with stopwatch() as run:
        report = await run_crawl(ex, site, limit=limit)

    # A page cut off by the timeout (late on a busy machine?) leaves its links unrequested:
    # the report says why, as a failure on time.
    if answers_timed_out(report, site) and run.elapsed >= TIMEOUT - EARLY:
        assert_report(report, site)
    assert_requests(server, site)
    assert_report(report, site)


@pytest.mark.task(3)
async def test_at_most_limit_requests_are_in_flight_and_the_crawl_beats_one_at_a_time(ex, rng, server):
    limit = rng.randint(3, 4)
    site = Site(server, rng)
    latency = 0.08
    # The start page links to `limit` hubs, and each hub to 3 pages of its own: pages found by
    # several parents wait at once, and the one limit holds them all.
    hubs = [site.add(OK, latency=latency) for _ in range(limit)]
    children = [*hubs]
    site.start.latency = latency
    site.start.links = [hub.url for hub in hubs]
    for hub in hubs:
        own = [site.add(OK, latency=latency) for _ in range(3)]
        children += own
        hub.links = [page.url for page in own]
    for child in children:
        child.links += [p.url for p in rng.sample([site.start, *children], 3)]
        rng.shuffle(child.links)
    site.publish()

    with stopwatch() as run:
        report = await run_crawl(ex, site, limit=limit)

    assert_report(report, site)
    if server.peak > limit:
        raise AssertionError(
            f"{server.peak} requests were in flight at once; at most {limit} may. One limit must hold "
            "the requests of every page: make `asyncio.Semaphore(limit)` once for the whole crawl (one "
            "made per page or per request limits nothing).\n"
            f"observed:\n{draw_timeline(server.calls, server.name)}"
        )
    assert_peak_in_flight(server, limit, expected_calls=len(site.pages))
    one_at_a_time = latency * len(site.pages)
    if margins.over(run.elapsed, 0.7 * one_at_a_time, "22 crawl: whole run < 0.7 x one page at a time"):
        raise AssertionError(
            f"the crawl of {len(site.pages)} pages took {run.elapsed:.2f} s; one at a time they take "
            f"{one_at_a_time:.2f} s, and with {limit} in flight about "
            f"{latency * (2 + len(children) // limit):.2f} s. Something waited that should not: "
            "start every page's fetch as soon as its link is found."
        )


QUIET_LATENCY = 0.2  # the pages of the test of waiting: nothing changes while they run


@pytest.mark.task(3)
async def test_crawl_sleeps_while_its_requests_run_and_a_page_waits_for_a_slot(ex, rng, server, wake_watch):
    limit = rng.randint(2, 3)
    site = Site(server, rng)
    # One page more than the limit: while the first `limit` run, it waits for a slot.
    children = [site.add(OK, latency=QUIET_LATENCY) for _ in range(limit + 1)]
    site.start.links = [child.url for child in children]
    for child in children:
        child.links = [site.start.url, rng.choice(children).url]
    fix = (
        "Await instead: one `asyncio.Semaphore(limit)` held around each request puts a waiting page "
        "to sleep until a slot frees, and a TaskGroup (or gather, or asyncio.wait) sleeps until the "
        "pages' tasks are done."
    )

    # Its own timers are judged by what they do as each reply comes (kata.testing.own_timers), all
    # but each request's timeout, the limit it was given: a limit of its own on the whole crawl
    # gives up on a slow site, a poll of the slots or the pages' tasks never sees a reply come; a
    # timer that only logs or warns is fine.
    async with wake_watch(ex) as wakes:
        with OwnTimersProbe(wakes, "crawl", site.server, given_limit=REFILL_TIMEOUT) as timers:
            site.publish(wrap=lambda reply: timers.reply_after(reply.delay, replace(reply, delay=0.0)))
            crawled = run_crawl(ex, site, limit=limit, timeout=REFILL_TIMEOUT, give_up=PROBED_GIVE_UP)
            task = asyncio.create_task(crawled)
            report = await timers.awaited(
                task,
                fix=fix,
                complete=lambda found: not found["failed"] and len(found["fetched"]) == len(site.pages),
            )

    assert_report(report, site, timeout=REFILL_TIMEOUT)
    assert_requests(server, site)
    first = sorted((r for r in server.requests if r.path != site.start.path), key=lambda r: r.start)[:limit]
    if any(r.end is None for r in first):
        return
    since = max(r.start for r in first) + QUIET_FROM
    until = timers.watched_until(min(r.end for r in first) - QUIET_BEFORE, since)
    while_ = (
        f"while its first {limit} requests for linked pages ran and one more page waited for a slot "
        f"(the {until - since:.2f} s this test watched)"
    )
    assert_slept_between(
        wakes,
        since,
        until,
        {task: "crawl"},
        "crawl",
        while_,
        ("whether a slot is free or the pages are done", "one is"),
        fix,
        probe=timers,  # judged by what they do, above (each request's timeout is pending there)
    )


@pytest.mark.task(3)
async def test_a_second_crawl_keeps_to_its_own_limit(ex, rng):
    # Two crawls, of two sites on two servers, with two limits: what the first crawl made (its
    # semaphore) must not be what the second one uses.
    limits = rng.sample([2, 4], 2)
    for number, limit in enumerate(limits):
        async with LoopbackServer(f"server {number + 1}") as server:
            site = Site(server, rng)
            children = [site.add(OK, latency=0.06) for _ in range(8)]
            site.start.links = [child.url for child in children]
            for child in children:
                child.links = [site.start.url, rng.choice(children).url]
            site.publish()

            report = await run_crawl(ex, site, limit=limit)

        assert_report(report, site)
        try:
            assert_peak_in_flight(server, limit, expected_calls=len(site.pages))
        except AssertionError as error:
            if number:
                error.add_note(
                    f"This was a second crawl, with limit={limit}; the first one, with limit={limits[0]}, "
                    "kept to its limit. Each crawl makes its own `asyncio.Semaphore(limit)` from the limit "
                    "it is given, inside that call of crawl: one kept in the module (or a class, or a "
                    "default argument) from an earlier crawl holds the old limit."
                )
            raise


@pytest.mark.task(3)
async def test_a_finished_request_makes_room_for_a_waiting_page_at_once(ex, rng, server):
    limit = rng.randint(3, 4)
    site = Site(server, rng)
    site.start.latency = REFILL_FAST
    # A slow page heads every `limit` children, and each quick child links to a page of the next
    # level: pages are waiting while a slow one runs, so a crawl that waits for the slow page's
    # batch (or its level) leaves slots empty.
    children = [
        site.add(OK, latency=REFILL_SLOW if n % limit == 0 else REFILL_FAST) for n in range(2 * limit)
    ]
    site.start.links = [child.url for child in children]
    for child in children:
        child.links = [site.start.url, rng.choice(children).url]
        if child.latency == REFILL_FAST:
            child.links.append(site.add(OK, latency=REFILL_FAST).url)
        rng.shuffle(child.links)
    for page in site.pages.values():
        page.note = f"a page that answers in {page.latency:.2f} s"
    site.publish()

    report = await run_crawl(ex, site, limit=limit, timeout=REFILL_TIMEOUT)

    assert_report(report, site, timeout=REFILL_TIMEOUT)
    assert_requests(server, site)
    requests = [r for r in server.requests if r.end is not None]
    slot = longest_empty_slot(requests, pages_waiting(server, site), limit)
    empty, began, fewest, waiting = slot.seconds, slot.began, slot.fewest, slot.waiting
    if margins.over(
        empty, EMPTY_SLOT_LIMIT, "22 crawl: a slot stands empty < EMPTY_SLOT_LIMIT while pages wait"
    ):
        origin = min(r.start for r in server.requests)
        known_at, path = waiting[0]
        pages = "1 page" if len(waiting) == 1 else f"{len(waiting)} pages"
        raise AssertionError(
            f"a slot stood empty for {empty:.2f} s: from {began - origin:.2f} s to "
            f"{began + empty - origin:.2f} s fewer than the {limit} requests allowed were in flight "
            f"(as few as {fewest}), while {pages} the crawl already knew waited to start, e.g. "
            f"{site.label(server.url(path))}, linked from a page fetched at {known_at - origin:.2f} s. "
            "When a request ends, the next waiting page should start right away. Taking the pages "
            f"{limit} at a time (gather on a batch), or a whole level of the site at a time, waits for "
            "the slowest page of the batch, and a wait of your own after a request, inside `async with "
            "slots:`, keeps its slot; one shared `asyncio.Semaphore(limit)` held around the request "
            "alone, with each page's fetch started as soon as its link is found, lets the next page in "
            "the moment any slot is free.\n"
            f"observed:\n{draw_timeline(server.calls, server.name)}"
        )


# The refill test in rounds (kata.testing.refill): the start page links to ROUNDS_OF_PAGES rounds of
# `limit` pages, whose replies are held until their round's `limit` requests have come and then go
# together; until the next round has come, the crawl's own timers are held back. A crawl that
# starts a waiting page as a request ends fills each round in milliseconds (tens in judge mode on
# a busy machine); one that keeps the slot a while after its page (a learner trial's pause of
# 20 ms, within EMPTY_SLOT_LIMIT) never does while its timer is held.
ROUNDS_OF_PAGES = 8
ROUND_REFILL_WAIT = 0.3


@pytest.mark.task(3)
async def test_a_slot_is_free_the_moment_its_request_ends(ex, rng, server, wake_watch):
    limit = rng.randint(2, 4)
    site = Site(server, rng)
    site.start.latency = 0.0
    pages = [site.add(OK, latency=0.0) for _ in range(limit * ROUNDS_OF_PAGES)]
    site.start.links = [page.url for page in pages]
    site.publish()

    async with wake_watch(ex) as wakes:
        rounds = RefillRounds(wakes, limit, len(pages), ROUND_REFILL_WAIT, given_limit=REFILL_TIMEOUT)

        def in_rounds(reply):
            async def held(request):
                await rounds.through()
                return reply

            return held

        for page in pages:
            server.serve(page.path, in_rounds(page.replies()))
        # In a task of its own, which the wake watch sees wake up.
        crawling = asyncio.create_task(run_crawl(ex, site, limit=limit, timeout=REFILL_TIMEOUT))
        try:
            report = await crawling
        finally:
            await rounds.settle()

    assert_report(report, site, timeout=REFILL_TIMEOUT)
    short = rounds.fell_short(
        "22 crawl: a round of requests refilled < ROUND_REFILL_WAIT",
        "22 crawl: slots refilled after requests end together",
    )
    if short is None:
        spin = rounds.spun("22 crawl: wake-ups of one task while a round refills < SPIN_WAKES")
        if spin is not None:
            raise AssertionError(
                f"crawl(..., limit={limit}): as {limit} requests for pages the start page links to ended at "
                f"the same moment, {spun_said(spin, {crawling: 'crawl'}, 'crawl')}: it kept the slot after "
                "its request had ended, until the clock said so, as a sleep does. A slot is free the moment "
                "its request ends: hold it for the request alone (`async with slots:` around "
                "fetch_links_retrying, with no wait of your own inside the block after it).\n"
                f"observed:\n{draw_timeline(server.calls, server.name)}"
            )
        return
    running, waiting, ended = short
    ended_while = (
        f"crawl(..., limit={limit}): {ended} requests for pages the start page links to ended at the same "
        f"moment while {waiting + running} of those pages still waited, and only {running} started in their "
        f"place"
    )
    empty = (
        f"{limit - running} of the {limit} slots stood empty for {ROUND_REFILL_WAIT:.2f} s, until "
        "the test gave up"
    )
    if rounds.held_back:
        raise AssertionError(
            f"{ended_while} while this test held back {rounds.held_said}: {empty}. crawl waited on a "
            "timer of its own before the next "
            "page's request could start: it kept the slot after its request had ended. A slot is free the "
            "moment its request ends: hold it for the request alone (`async with slots:` around "
            "fetch_links_retrying, with no wait of your own inside the block after it).\n"
            f"observed:\n{draw_timeline(server.calls, server.name)}"
        )
    raise AssertionError(
        f"{ended_while}: {empty}. When a request ends, the next waiting page should start right away: one "
        "shared `asyncio.Semaphore(limit)`, with each page's fetch started as soon as its link is found, "
        "lets the next page in the moment any slot is free.\n"
        f"observed:\n{draw_timeline(server.calls, server.name)}"
    )


@pytest.mark.task(3)
async def test_one_session_serves_the_whole_crawl(ex, rng, server, sessions_opened):
    site = random_site(server, rng, answering=8)

    report = await run_crawl(ex, site, limit=3)

    assert_report(report, site)
    # Seen by the server: one session keeps its connections open and reuses them for later pages,
    # while a session per page opens a new connection for every request. The count of sessions
    # made (kept by the learner's own process in judge mode) can only add a failure.
    requests, connections = len(server.calls), server.connection_count
    opened = sessions_opened[0]
    if opened > 1 or connections >= requests:
        made = (
            f"opened {opened} ClientSessions" if opened > 1 else "opened a new connection for every request"
        )
        raise AssertionError(
            f"crawl {made} ({connections} connections for {requests} requests to {len(site.pages)} "
            "pages); one session would reuse its connections. Open ONE with "
            "`async with aiohttp.ClientSession() as session:` around the whole crawl, and pass it to "
            "every fetch."
        )


@pytest.mark.task(3)
async def test_failed_pages_are_reported_with_their_reason(ex, rng, server):
    site = random_site(server, rng, answering=5, busy=1, errors=2, slow=2, orphans=1)

    report = await run_crawl(ex, site, limit=3)

    assert_report(report, site)
    assert_requests(server, site)


@pytest.mark.task(3)
async def test_a_busy_page_is_retried_and_its_links_are_followed(ex, rng, server):
    site = Site(server, rng)
    flaky = [site.add(FLAKY, busy=rng.randint(1, ATTEMPTS - 1)) for _ in range(2)]
    # Busy twice, then it answers: its attempts add up past the timeout, each far inside it.
    flaky.insert(rng.randrange(3), site.add(FLAKY, busy=ATTEMPTS - 1, latency=BUSY_LATENCY))
    site.start.links = [page.url for page in flaky]
    for page in flaky:  # each busy page hides a page only it links to
        only_here = site.add(OK)
        only_here.links = [site.start.url]
        page.links = [only_here.url, rng.choice(flaky).url]
    site.publish()

    report = await run_crawl(ex, site, limit=2)
    finished = clock.perf_counter()

    for page in flaky:
        if report["failed"].get(page.url) == "timeout":
            words = each_in_time(page, [r for r in server.requests if r.path == page.path], finished)
            if words:
                raise AssertionError(
                    f"crawl reported that {words} Time spent waiting between attempts, or for a free slot, "
                    "does not count either: fetch each page with fetch_links_retrying, nothing more "
                    "around it."
                )
    assert_report(report, site)
    assert_requests(server, site)


@pytest.mark.task(3)
async def test_waiting_for_a_free_slot_does_not_count_toward_the_timeout(ex, rng, server):
    site = Site(server, rng)
    # 14 pages of 0.06 s, 2 at a time: the last ones wait about 0.36 s for a slot, past the
    # 0.25 s timeout, though each request itself takes 0.06 s.
    children = [site.add(OK, latency=0.06) for _ in range(14)]
    site.start.links = [child.url for child in children]
    site.publish()

    with stopwatch() as run:
        report = await run_crawl(ex, site, limit=2)

    timed_out = [url for url, reason in report["failed"].items() if reason == "timeout"]
    if timed_out:
        if run.elapsed >= TIMEOUT - EARLY:  # cut off by a timeout: late on a busy machine, or the mistake
            margins.cut_off("22 crawl: a page that waits for a slot still answers within the timeout")
        raise AssertionError(
            f"{len(timed_out)} pages that answer in 0.06 s were reported as timeouts, e.g. "
            f"{site.label(timed_out[0])}. They waited their turn for one of the 2 slots: start each "
            f"page's {TIMEOUT} s timeout when its request starts, inside the limit, not while it "
            "waits for a free slot."
        )
    assert_report(report, site)
    assert_requests(server, site)


def renamed(site, page, path):
    """Give `page` another path (and URL) on the site."""
    del site.pages[page.url]
    page.path, page.url = path, site.server.url(path)
    site.pages[page.url] = page
    return page


@pytest.mark.task(3)
async def test_links_that_differ_only_in_case_or_a_trailing_slash_are_pages_of_their_own(ex, rng, server):
    # URLs are compared as they are: /pages/p7, /pages/P7 and /pages/p7/ are three pages (a server
    # may answer each with another page), and the start page's URL with a slash added is another.
    site = Site(server, rng)
    word = f"p{rng.randrange(100, 1000)}"
    paths = [f"/pages/{word}", f"/pages/{word.upper()}", f"/pages/{word}/", f"/pages/{word.upper()}/"]
    pages = [renamed(site, site.add(OK), path) for path in [*paths, site.start.path + "/"]]
    site.start.links = [page.url for page in pages]
    rng.shuffle(site.start.links)
    for page in pages:
        page.links = [site.start.url, rng.choice(pages).url]
    site.publish()

    report = await run_crawl(ex, site, limit=rng.randint(2, 4))

    reported = report["fetched"].keys() | report["failed"].keys()
    missing = [page.path for page in pages if page.url not in reported]
    # Only once the start page's links were read: a start page that failed (a busy machine can make
    # it time out, a failure on time there) is assert_report's, in its own words. (Judge mode on
    # Python 3.13, at a load of 13, once reported all five pages missing, this message blaming a
    # normalizing the answer did not do; not reproduced.)
    if missing and site.start.url in report["fetched"]:
        raise AssertionError(
            f"the start page links to {len(pages)} pages whose URLs differ only in letter case or a "
            f"trailing slash ({', '.join(page.path for page in pages)}), and the crawl's report has no "
            f"entry for {', '.join(missing)}: they were taken for pages already seen. Every page reached "
            "is in the report: compare links as they are (`if link not in seen:`), with no "
            "normalizing of your own (`.lower()`, `.rstrip('/')`)."
        )
    assert_report(report, site)
    assert_requests(server, site)


# Above every round cap (8, 10, 16, 20, 25, 32, 50, 64), below aiohttp's default of 100 connections.
LARGE_LIMITS = (65, 99)


# The held replies of the large-limit test are let go together: the code's loop then reads up to 99
# replies in a few turns, and on a loaded machine one such turn is cut off by the scheduler now and
# then (the self-check, at a load of 12 to 15: 0.12-0.33 s, twice in a row, for the solution and 9
# ok variants). So the test allows a stall of this long, as the large site's does (blocking code is
# the crawl's other tests' business: each keeps the loop guard's usual limit).
HELD_REPLIES_STALL_LIMIT = 1.0


@pytest.mark.task(3)
@pytest.mark.stall_limit(HELD_REPLIES_STALL_LIMIT)
async def test_a_large_limit_is_reached_when_that_many_pages_wait(ex, rng, server):
    # A limit of LARGE_LIMITS, well above the 3 or 4 of the other tests: `limit` is the caller's to
    # choose, and a cap of one's own (`min(limit, 8)`, `min(limit, 32)`: a red team's passed with
    # the 10 to 16 drawn here before) is seen only above it. Below 100, aiohttp's default connector,
    # which the session of a correct crawl may keep. The start page links to twice as many pages,
    # and their replies are held until `limit` requests have come (for at most ALL_IN_WITHIN s), so
    # they are all in flight at once however slowly a busy machine sends.
    limit = rng.randint(*LARGE_LIMITS)
    site = Site(server, rng)
    pages = [site.add(OK, latency=0.0) for _ in range(2 * limit)]
    site.start.links = [page.url for page in pages]
    site.publish()
    hold = hold_replies_until_requests(limit, at_most=ALL_IN_WITHIN)
    for page in pages:
        server.serve(page.path, hold(page.replies()))

    report = await run_crawl(ex, site, limit=limit, timeout=REFILL_TIMEOUT)

    if margins.short_of(server.peak, limit, "22 crawl: a large limit reached"):
        raise AssertionError(
            f"crawl(..., limit={limit}) never had more than {server.peak} requests in flight, though "
            f"{len(pages)} pages waited (this test held their replies until {limit} had come, for "
            f"{ALL_IN_WITHIN:.1f} s after the first, longer while more kept coming). `limit` is the "
            "caller's to choose, however large: make the "
            "semaphore from it as it is, `asyncio.Semaphore(limit)`, with no cap of your own "
            "(`min(limit, 8)`, `min(limit, 32)`)."
        )
    assert_report(report, site, timeout=REFILL_TIMEOUT)
    assert_peak_in_flight(server, limit, expected_calls=len(site.pages))


# A site deeper, and larger, than a crawl's own "safety" limit would allow (`MAX_DEPTH = 10`,
# `if len(seen) >= 100: break`, up to 1000 pages): the docstring asks for every page reached.
DEEP = (60, 80)  # links from the start page to the last page of a chain
LARGE = (1020, 1100)  # pages in all, a start page linking to hubs, each linking to many leaves
LARGE_LIMIT = 50
LARGE_GIVE_UP = 15.0  # a crawl of LARGE pages takes 1 to 3 s, far longer on a loaded machine
# A crawl of LARGE pages runs the loop through thousands of stretches, and on a loaded machine one
# of them is cut off by the scheduler now and then: with 8 CPU burners on 2 cores the solution's
# worst stall passed 0.1 s in most of 12 runs, up to 0.6 s (the self-check failed it on time twice). So
# this test allows a stall of LARGE_STALL_LIMIT s (blocking code is the crawl's other tests'
# business: each of them keeps the loop guard's usual limit) and gives each page LARGE_TIMEOUT s,
# far more than a stall (its pages answer at once: no page of it is meant to time out).
LARGE_STALL_LIMIT = 1.0
LARGE_TIMEOUT = 5.0


@pytest.mark.task(3)
async def test_a_page_many_links_deep_is_reached(ex, rng, server):
    site = Site(server, rng)
    chain = [site.start]
    for _ in range(rng.randint(*DEEP)):
        page = site.add(OK, latency=0.0)
        chain[-1].links.append(page.url)
        page.links.append(site.start.url)  # and back: a cycle as well
        chain.append(page)
    site.publish()

    report = await run_crawl(ex, site, limit=rng.randint(2, 4))

    reported = report["fetched"].keys() | report["failed"].keys()
    reached = [page for page in chain if page.url in reported]
    if len(reached) < len(chain):
        deepest = next(n for n, page in enumerate(chain) if page.url not in reported) - 1
        if chain[deepest].url not in report["fetched"]:
            # It failed, and so had no links to follow (a timeout on a busy machine, which the report's
            # check takes for a failure on time): the report's words, not a depth limit's.
            assert_report(report, site)
        raise AssertionError(
            f"the site is a chain of {len(chain)} pages, each linking to the next: the last is "
            f"{len(chain) - 1} links from the start page. The crawl's report stops at the page "
            f"{deepest} links deep ({chain[deepest].path}), though it was fetched and links on. "
            "Follow every link to a page not seen yet, however deep: no depth limit of your own. The "
            "`seen` set is what ends a crawl (a site is finite, and cycles are seen)."
        )
    assert_report(report, site)
    assert_requests(server, site)


@pytest.mark.task(3)
@pytest.mark.stall_limit(LARGE_STALL_LIMIT)
async def test_a_site_of_more_than_a_thousand_pages_is_crawled_whole(ex, rng, server):
    count = rng.randint(*LARGE)
    site = Site(server, rng)
    site.numbers = iter(rng.sample(range(1000, 100_000), count))  # more pages than Site's own numbers
    hubs = [site.add(OK, latency=0.0) for _ in range(int(count**0.5))]
    site.start.links = [hub.url for hub in hubs]
    for n in range(count - 1 - len(hubs)):
        leaf = site.add(OK, latency=0.0)
        hubs[n % len(hubs)].links.append(leaf.url)
        leaf.links = [site.start.url]
    site.publish()

    async with hang_guard(
        LARGE_GIVE_UP,
        "22 crawl: a crawl of a large site returns < LARGE_GIVE_UP",
        lambda: (
            f"crawl had not returned after {LARGE_GIVE_UP:.0f} s, with {len(site.server.requests)} of the "
            f"{len(site.pages)} pages requested; a crawl of them takes a few seconds."
        ),
    ):
        report = await ex.crawl(
            site.start.url, limit=LARGE_LIMIT, timeout=LARGE_TIMEOUT, attempts=ATTEMPTS, backoff=BACKOFF
        )

    reported = report["fetched"].keys() | report["failed"].keys()
    if len(reported) < len(site.pages):
        raise AssertionError(
            f"the site has {len(site.pages)} pages, every one reachable from the start page, and the "
            f"crawl's report holds {len(reported)}: it stopped before the end. Crawl the whole site, "
            "however large: no cap of your own on the pages (`if len(seen) >= 100:`). The `seen` set "
            "is what ends a crawl (a site is finite)."
        )
    assert_report(report, site, timeout=LARGE_TIMEOUT)
    assert_requests(server, site)


@pytest.mark.task(3)
async def test_a_start_page_that_fails_gives_a_report_of_that_one_failure(ex, rng, server):
    site = Site(server, rng)
    site.start.kind = ERROR
    site.start.status = rng.choice(CLIENT_ERRORS + SERVER_ERRORS)
    site.publish()

    with stopwatch() as run:
        report = await run_crawl(ex, site, limit=2)

    if report["failed"].get(site.start.url) == "timeout" and run.elapsed >= TIMEOUT - EARLY:
        # late on a busy machine?
        margins.cut_off("22 crawl: an error status arrives within the timeout")
    assert_same(report, {"fetched": {}, "failed": {site.start.url: site.start.reason}}, "the report")


@pytest.mark.task(3)
async def test_a_random_site_with_every_kind_of_page(ex, rng, server):
    site = random_site(
        server,
        rng,
        answering=rng.randint(10, 16),
        flaky=rng.randint(1, 3),
        busy=1,
        errors=rng.randint(1, 3),
        slow=rng.randint(1, 2),
        orphans=2,
    )

    report = await run_crawl(ex, site, limit=rng.randint(2, 4))

    assert_report(report, site)
    assert_requests(server, site)


@pytest.mark.task(3)
async def test_a_cancelled_crawl_ends_cancelled(ex, server):
    await cancelled_while_the_server_answers(
        server,
        lambda url: ex.crawl(url, limit=2, timeout=2.0, attempts=ATTEMPTS, backoff=BACKOFF),
        "crawl",
        moment="while it waited for the start page, long before the 2.0 s timeout",
        advice="A cancelled crawl has no report to give: let the CancelledError through every page's "
        "fetch (catch only ClientResponseError and TimeoutError there).",
    )
