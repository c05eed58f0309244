"""Wrong: fetch_multiple_urls keeps its request tasks in a dict keyed by url. A url listed twice is
requested twice, but the first task is lost from the dict: both places get the second reply's body,
and the lost request is not waited for: it is still running when the session closes under it (a red
team's answer)."""
# fails only: test_a_url_listed_twice_is_fetched_twice_each_reply_in_its_own_place

import asyncio

import aiohttp


async def fetch_json(session, url):
    async with session.get(url) as response:
        response.raise_for_status()
        return await response.json()


async def fetch_multiple_urls(urls):
    async with aiohttp.ClientSession() as session:
        tasks = {url: asyncio.create_task(fetch_json(session, url)) for url in urls}
        try:
            await asyncio.gather(*tasks.values())
        finally:
            for task in tasks.values():
                task.cancel()
            await asyncio.gather(*tasks.values(), return_exceptions=True)
        return [tasks[url].result() for url in urls]
