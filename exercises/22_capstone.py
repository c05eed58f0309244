"""Exercise 22: capstone, a crawler that fits the pieces together

Why
---
Real async programs are rarely one idea. A crawler that reads a whole site needs
most of this course at once: ONE aiohttp session for every request (09), a
timeout on each request so one stuck page cannot hold up the rest (11), a limit
on how many requests are in flight so the site is not flooded (15), retries with
backoff for a server that is only busy (19), a set of pages already seen so each
page is fetched once, and a report at the end that accounts for every page. Each
piece is small; the work is in fitting them together. 20 pages of 0.5 s take
10 s one at a time; 4 at a time, about 2.5 s.

Example (save it as demo.py and run `python demo.py`)
-------
The shape of a crawler, with a dictionary standing in for the web:

    import asyncio

    SITE = {"/": ["/a", "/b"], "/a": ["/b", "/c"], "/b": ["/"], "/c": ["/c"]}   # links, with cycles

    async def fetch(url):                        # stands in for one HTTP request
        await asyncio.sleep(0.5)
        return SITE[url]

    async def crawl(start, limit):
        pages, seen = {}, {start}
        slots = asyncio.Semaphore(limit)         # ONE semaphore, shared by every page

        async def visit(url):
            async with slots:                    # at most `limit` fetches at a time
                links = await fetch(url)
            pages[url] = links
            for link in links:
                if link not in seen:
                    seen.add(link)               # seen BEFORE its fetch starts
                    group.create_task(visit(link))

        async with asyncio.TaskGroup() as group:
            group.create_task(visit(start))      # the group also waits for tasks added later
        return pages

    print(asyncio.run(crawl("/", limit=2)))      # 4 pages in 1.5 s: "/", then "/a" and "/b", then "/c"

The pitfalls
------------
- `seen.add(link)` after the fetch instead of before it: two pages that link to
  the same page both start it, and it is fetched twice.
- A timeout around `async with slots:` also counts the time a page waits for a
  free slot; with many pages waiting, good pages "time out" before their request
  even starts. Time the request itself, inside the limit.
- A page that raises inside a TaskGroup cancels the whole crawl. A crawler
  expects some pages to fail: catch the failure where that one page is fetched,
  write it in the report, and go on.
- Retry only what can get better. A 503 means "busy, try again later"; a 404
  will be a 404 again. Here a page that timed out is not retried either: each
  new try would cost a whole timeout more.

Your tasks
----------
Three pieces, each built on the one before. Replace each `raise NotImplementedError`
below. Check your work with `python grade.py` (or `pytest tests/test_22_capstone.py`).
"""


# Task 1: fetch one page's links, with a timeout
async def fetch_links(session, url, timeout):
    """GET `url` with the `session` you are given and return the page's links.

    A page is JSON like `{"links": ["http://...", ...]}`: return that list, as it is.
    Give up after `timeout` seconds: raise `TimeoutError`. If the server answers
    with an error status (4xx or 5xx), raise `aiohttp.ClientResponseError`.
    A cancel from the caller is not a timeout: let it through, so the call ends cancelled.
    """
    raise NotImplementedError


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
    raise NotImplementedError


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
    raise NotImplementedError
