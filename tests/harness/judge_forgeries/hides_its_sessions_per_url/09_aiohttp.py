# appended to tests/variants/09_aiohttp/wrong_session_per_url.py
# Its session per URL is made with an __init__ taken at import, before the grader's counter
# replaces it (the module loads before the test begins); one empty counted session makes the count 1.
import types

_aiohttp = globals()["aiohttp"]  # the variant's, above this when put together
_INIT = _aiohttp.ClientSession.__init__


def _uncounted_session(*args, **kwargs):
    session = _aiohttp.ClientSession.__new__(_aiohttp.ClientSession)
    _INIT(session, *args, **kwargs)
    return session


aiohttp = types.SimpleNamespace(**{n: getattr(_aiohttp, n) for n in dir(_aiohttp) if not n.startswith("__")})
aiohttp.ClientSession = _uncounted_session
_fetch_multiple_urls = globals()["fetch_multiple_urls"]


async def fetch_multiple_urls(urls):
    async with _aiohttp.ClientSession():  # the one session the counter sees; never used
        pass
    return await _fetch_multiple_urls(urls)
