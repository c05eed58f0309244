"""Wrong: fetch_links races the request against `asyncio.sleep(timeout + 0.05)`: a grace of
0.05 s, so a page up to 0.05 s too slow is returned."""

# fails only: test_fetch_links_gives_up_on_a_page_just_slower_than_the_timeout

import asyncio

import aiohttp


# Task 1: fetch one page's links, with a timeout
async def fetch_links(session, url, timeout):
    async def get():
        async with session.get(url) as response:
            response.raise_for_status()
            page = await response.json()
        return page["links"]

    call = asyncio.ensure_future(get())
    clock = asyncio.ensure_future(asyncio.sleep(timeout + 0.05))
    try:
        await asyncio.wait({call, clock}, return_when=asyncio.FIRST_COMPLETED)
        if call.done():
            return call.result()
        raise TimeoutError
    finally:
        call.cancel()
        clock.cancel()
        await asyncio.wait({call, clock})


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
    return report
