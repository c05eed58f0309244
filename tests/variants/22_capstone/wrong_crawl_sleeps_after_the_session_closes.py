"""Mistake: crawl sleeps 0.25 s once its session has closed, for the connections to close
"gracefully" (old aiohttp advice), before it returns the report: a pause after every page is in
(a learner trial's answer)."""
# fails only: test_crawl_returns_its_report_as_soon_as_its_last_page_is_in

import asyncio

import aiohttp


# Task 1: fetch one page's links, with a timeout
async def fetch_links(session, url, timeout):
    """GET `url` with the `session` you are given and return the page's links.

    A page is JSON like `{"links": ["http://...", ...]}`: return that list, as it is.
    Give up after `timeout` seconds: raise `TimeoutError`. If the server answers
    with an error status (4xx or 5xx), raise `aiohttp.ClientResponseError`.
    A cancel from the caller is not a timeout: let it through, so the call ends cancelled.
    """
    async with asyncio.timeout(timeout), session.get(url) as response:
        response.raise_for_status()
        page = await response.json()
    return page["links"]


# Task 2: retry a busy page, with backoff
async def fetch_links_retrying(session, url, timeout, attempts, backoff):
    """Like `fetch_links`, but a page that answers 503 (busy) is tried again.

    Make at most `attempts` requests in all. Before the 2nd request wait `backoff`
    seconds, before the 3rd `2 * backoff`, then `4 * backoff`, and so on (the caller
    chose these waits: a `Retry-After` header on the 503 does not change them).
    If the last attempt answers 503 too, raise its `ClientResponseError`.
    Any other failure (another status, a timeout) is raised at once, never retried.
    A cancel from the caller, during a request or the wait before a retry, is neither a
    timeout nor a reason to retry: let it through, so the call ends cancelled and makes no
    more requests.
    """
    for attempt in range(1, attempts + 1):
        try:
            return await fetch_links(session, url, timeout)
        except aiohttp.ClientResponseError as error:
            if error.status != 503 or attempt == attempts:
                raise
        await asyncio.sleep(backoff * 2 ** (attempt - 1))


# Task 3: crawl the whole site
async def crawl(start_url, limit, timeout, attempts, backoff):
    """Fetch `start_url`, then every page it links to, then theirs, and so on.

    Return a report: `{"fetched": {url: links}, "failed": {url: reason}}`. Every
    page reached is in exactly one of the two. `reason` is `"HTTP <status>"` for a
    page that failed with an error status (e.g. "HTTP 404") and `"timeout"` for one
    that timed out; a failed page has no links to follow. The rules:
    - ONE `aiohttp.ClientSession` for the whole crawl;
    - each page is requested once (plus the retries of Task 2: fetch every page
      with `fetch_links_retrying(session, url, timeout, attempts, backoff)`);
    - at most `limit` requests in flight at any moment, and `limit` whenever
      that many pages are waiting;
    - the timeout is for the request itself: time spent waiting for a free slot
      does not count;
    - a failed page is reported, and the crawl goes on.
    - a cancel from the caller is not a failed page: let it through, so that crawl ends
      cancelled, with no report and none of its requests still running.
    """
    report = {"fetched": {}, "failed": {}}
    seen = {start_url}
    slots = asyncio.Semaphore(limit)

    async def visit(url):
        try:
            async with slots:
                links = await fetch_links_retrying(session, url, timeout, attempts, backoff)
        except aiohttp.ClientResponseError as error:
            report["failed"][url] = f"HTTP {error.status}"
            return
        except TimeoutError:
            report["failed"][url] = "timeout"
            return
        report["fetched"][url] = links
        for link in links:
            if link not in seen:
                seen.add(link)  # before the fetch starts, so no other page starts it too
                group.create_task(visit(link))

    async with aiohttp.ClientSession() as session, asyncio.TaskGroup() as group:
        group.create_task(visit(start_url))
    await asyncio.sleep(0.25)  # let the connections close gracefully
    return report
