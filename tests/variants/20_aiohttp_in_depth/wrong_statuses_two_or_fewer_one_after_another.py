"""Wrong: fetch_statuses GETs the URLs one after another when there are two or fewer (a gather only for
more): two requests are sent one after another (learner trial AA)."""
# fails only: test_two_urls_are_fetched_at_the_same_time, test_a_list_of_any_size_has_all_its_urls_fetched_at_the_same_time
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio

import aiohttp


# Task 1: give up on a slow reply
async def fetch_with_timeout(session, url, seconds):
    """GET `url` with the `session` you are given and return its JSON body, parsed.

    The whole reply, headers and body, must arrive within `seconds`. If it has not,
    give up: stop the request and return None. Any other error is not a timeout: let it reach the caller,
    and a cancel from the caller is not one either: let it through, so that the call ends cancelled.
    """
    try:
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=seconds)) as response:
            return await response.json()
    except TimeoutError:
        return None


# Task 2: sort the replies by status
async def fetch_statuses(session, urls):
    """GET every URL in `urls` with `session`, all at the same time.

    Return a dict with one entry per URL: the parsed JSON body when the reply's
    status is below 400, or the status code itself (an int such as 404 or 503)
    when it is an error status. One error must not cost you the other replies.
    A cancel from the caller stops it and every request it started: let it through,
    so that it ends cancelled with none of its requests still running.
    """

    async def body_or_status(url):
        async with session.get(url) as response:
            if response.status >= 400:
                return response.status
            return await response.json()

    if len(urls) <= 2:
        results = [await body_or_status(url) for url in urls]
    else:
        results = await asyncio.gather(*(body_or_status(url) for url in urls))
    return dict(zip(urls, results, strict=True))


# Task 3: cap the connections
async def fetch_all_limited(urls, limit):
    """Fetch every URL in `urls` (JSON bodies) through ONE session that never has more
    than `limit` connections open; return the bodies in the order of `urls`.

    Start every request at once and let the session's connector hold back the rest:
    exactly `limit` requests should be in flight whenever that many are waiting.
    A cancel from the caller stops it and every request it started: let it through,
    so that it ends cancelled with none of its requests still running.
    """

    async def get_json(session, url):
        async with session.get(url) as response:
            return await response.json()

    connector = aiohttp.TCPConnector(limit=limit)
    async with aiohttp.ClientSession(connector=connector) as session:
        return list(await asyncio.gather(*(get_json(session, url) for url in urls)))


# Task 4: stream a large download
async def download(session, url, save, chunk_size):
    """GET `url` with `session` and pass its body to `save` piece by piece, as it arrives.

    Call `await save(piece)` for each piece of at most `chunk_size` bytes, in order,
    without ever holding the whole body in memory. Return the number of bytes saved.
    If the server answers with an error status (4xx or 5xx), raise
    `aiohttp.ClientResponseError` and save nothing.
    A cancel from the caller stops it and its request: let it through, so that download
    ends cancelled with its request stopped too.
    """
    saved = 0
    async with session.get(url) as response:
        response.raise_for_status()
        async for piece in response.content.iter_chunked(chunk_size):
            await save(piece)
            saved += len(piece)
    return saved
