"""wrong_error_reply_not_released, on a ClientSession of its own whose headers are copied from the one
it is given (a red team's forgery: the old header tag passed it): the server tells its requests apart
by the connection they came on. Each call also keeps its own session open in a module global: reported in
the test that made it (the module's globals end with the test), in both modes and on every Python."""
# fails only: test_each_url_maps_to_its_body_or_its_error_status, test_every_url_is_fetched_at_the_same_time, test_many_urls_are_all_in_flight_at_once, test_every_reply_is_released_an_error_reply_too, test_no_urls_means_an_empty_dict, test_a_cancelled_fetch_statuses_ends_cancelled, test_a_second_call_with_the_same_urls_asks_the_server_afresh, test_a_url_listed_twice_leaves_no_request_running_when_it_returns, test_fetch_statuses_reads_text_outside_ascii_as_the_server_sent_it, test_a_second_cancel_while_its_requests_stop_leaves_none_running_either, test_two_urls_are_fetched_at_the_same_time, test_a_list_of_any_size_has_all_its_urls_fetched_at_the_same_time
# ruff: noqa: E501 (the line above names long tests, and the self-check reads it as one line)

import asyncio

import aiohttp


async def fetch_with_timeout(session, url, seconds):
    try:
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=seconds)) as response:
            return await response.json()
    except TimeoutError:
        return None


async def fetch_statuses(session, urls):
    # The variant's mistake kept (an error reply is never released), but on a session of its own,
    # out of the judge's sight: the lent session's headers (its tag) are copied onto it.
    own = aiohttp.ClientSession(headers=dict(session.headers))

    async def body_or_status(url):
        response = await own.get(url)
        if response.status >= 400:
            return response.status  # never released
        return await response.json()

    results = await asyncio.gather(*(body_or_status(url) for url in urls))
    _kept.append(own)  # never closed either
    return dict(zip(urls, results, strict=True))


_kept = []


async def fetch_all_limited(urls, limit):
    async def get_json(session, url):
        async with session.get(url) as response:
            return await response.json()

    connector = aiohttp.TCPConnector(limit=limit)
    async with aiohttp.ClientSession(connector=connector) as session:
        return list(await asyncio.gather(*(get_json(session, url) for url in urls)))


async def download(session, url, save, chunk_size):
    saved = 0
    async with session.get(url) as response:
        response.raise_for_status()
        async for piece in response.content.iter_chunked(chunk_size):
            await save(piece)
            saved += len(piece)
    return saved
