"""Wrong: fetch_multiple_urls cleans up its request tasks only after its wait has returned; a
cancel from the caller ends the wait and leaves the tasks running, to fail on the closed session
with nobody to see it (a learner trial's answer: it passed in one process, failed in judge mode)."""
# fails only: test_a_cancelled_call_ends_cancelled

import asyncio

import aiohttp


# Task 1: fetch one JSON document
async def fetch_json(session, url):
    """GET `url` with the `session` you are given and return its JSON body, parsed.

    Every call sends exactly one request (no cache, no retry). Any success status (200, 201,
    ...) returns the body; if the server answers with an error status (4xx or 5xx), raise
    `aiohttp.ClientResponseError` instead of returning the body.
    """
    async with session.get(url) as response:
        response.raise_for_status()
        return await response.json()


# Task 2: many URLs, one session
async def fetch_multiple_urls(urls):
    """Fetch every URL in `urls` at the same time; return their JSON bodies in the order of `urls`.

    Open ONE `aiohttp.ClientSession` with `async with`, share it between all the
    requests (made with `fetch_json`), and let it close when they are done. If a
    request fails, let the error reach the caller.
    """
    async with aiohttp.ClientSession() as session:
        tasks = [asyncio.ensure_future(fetch_json(session, url)) for url in urls]
        if not tasks:
            return []
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)  # a cancel ends this wait alone
        try:
            return [task.result() for task in tasks]
        finally:  # reached only once the wait has returned: not when the caller cancels
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
