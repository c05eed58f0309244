"""Wrong: fetch_json raises ClientResponseError only for the error statuses it lists by number (the
usual ones): any other 4xx or 5xx status (402, 410, 422, 501, ...) returns its error body as data
(red team 13)."""
# fails only: test_fetch_json_raises_for_every_error_status_not_only_the_usual_ones

import asyncio

import aiohttp

ERROR_STATUSES = {400, 401, 403, 404, 405, 408, 409, 429, 500, 502, 503, 504}


async def fetch_json(session, url):
    async with session.get(url) as response:
        if response.status in ERROR_STATUSES:
            response.raise_for_status()
        return await response.json()


async def fetch_multiple_urls(urls):
    async with aiohttp.ClientSession() as session:
        return await asyncio.gather(*(fetch_json(session, url) for url in urls))
