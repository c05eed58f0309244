"""Library values that cross as data: rebuilt on the other side by their own library.

A URL, a ClientTimeout, the request info and headers of an aiohttp error are values, not
objects with a life of their own: a learner's `aiohttp.ClientTimeout(total=0.5)` must reach
the judge's session as a ClientTimeout, and a ClientResponseError's `request_info.url` must
still read as a URL. Each crosses as its type's name and plain data, and is rebuilt by a fixed
function of that library (so nothing the other side sends chooses what runs).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any


def _timeout_data(value: Any) -> dict:
    return {a.name: getattr(value, a.name) for a in type(value).__attrs_attrs__}


def _timeout(data: dict) -> Any:
    import aiohttp

    return aiohttp.ClientTimeout(**{k: v for k, v in data.items() if type(k) is str})


def _url(data: str) -> Any:
    import yarl

    return yarl.URL(str(data))


def _headers(pairs: list) -> Any:
    import multidict

    return multidict.CIMultiDictProxy(multidict.CIMultiDict([(str(k), str(v)) for k, v in pairs]))


def _request_info(data: list) -> Any:
    import aiohttp

    url, method, headers, real_url = data
    return aiohttp.RequestInfo(url, str(method), headers, real_url)


# type's module and qualified name -> (what it sends, how it is rebuilt)
VALUE_TYPES: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
    "yarl.URL": (str, _url),
    "aiohttp.client.ClientTimeout": (_timeout_data, _timeout),
    "aiohttp.client_reqrep.RequestInfo": (tuple, _request_info),
    "multidict._multidict.CIMultiDictProxy": (lambda v: list(v.items()), _headers),
    "multidict._multidict.CIMultiDict": (lambda v: list(v.items()), _headers),
}
MODULES = {"yarl", "aiohttp", "multidict"}


def value_type(value: Any) -> str | None:
    """The name under which `value` crosses as a library value, or None."""
    cls = type(value)
    if cls.__module__.split(".", 1)[0] not in MODULES or cls.__module__.split(".", 1)[0] not in sys.modules:
        return None
    name = f"{cls.__module__}.{cls.__qualname__}"
    return name if name in VALUE_TYPES else None


def rebuild(name: str, data: Any) -> Any:
    if name not in VALUE_TYPES:
        raise ValueError(f"not a value type: {name[:80]}")
    importlib.import_module(name.split(".", 1)[0])
    return VALUE_TYPES[name][1](data)
