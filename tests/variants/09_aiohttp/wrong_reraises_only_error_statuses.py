"""Wrong: gathers with return_exceptions=True and re-raises only ClientResponseError, so any other
failure (a body that is not JSON) is dropped and the other bodies come back as if all went well."""
# fails only: test_an_error_without_a_status_reaches_the_caller

import asyncio

import aiohttp


async def fetch_json(session, url):
    async with session.get(url) as response:
        response.raise_for_status()
        return await response.json()


async def fetch_multiple_urls(urls):
    async with aiohttp.ClientSession() as session:
        results = await asyncio.gather(*(fetch_json(session, url) for url in urls), return_exceptions=True)
    for result in results:
        if isinstance(result, aiohttp.ClientResponseError):
            raise result
    return [result for result in results if not isinstance(result, Exception)]
