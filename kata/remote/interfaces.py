"""What the learner's side may do with what the judge lends it: only what is declared.

Deny by default. The learner's process may
- call what the tests hand over to be called: plain functions and lambdas, bound methods, a
  builtin method of a test's own object (`reports.append`), and instances of a class that
  declares an interface (a FakeService);
- read an attribute, or call a method, only by a name the object's class declares: in its own
  `_kata_remote` (the kata's fakes), or in INTERFACES below (asyncio's and aiohttp's objects the
  tests hand over: an Event, a ClientSession and what it gives back);
- await what is awaitable (a coroutine a service returned, a task, a request in flight);
- read the signature of what it may call, as data (kata.remote.signatures).
Nothing else: not a coroutine's frame, a function's globals, a module, a builtin such as `exec`.
Every way from a lent object to the judge's internals goes through one of those names, so that
is where the judge's code is kept out of reach.
"""

from __future__ import annotations

import functools
import inspect
import types
from typing import Any

from kata.remote.signatures import SIGNATURE

_RESPONSE = (
    "status reason ok url real_url method headers content_type charset content_length history "
    "request_info closed content json text read release close raise_for_status get_encoding "
    "version cookies links raw_headers wait_for_close content_disposition host __aenter__ __aexit__"
)
INTERFACES: dict[str, frozenset[str]] = {
    name: frozenset(names.split())
    for name, names in {
        "asyncio.locks.Event": "set clear wait is_set",
        "concurrent.futures._base.Future": "result done cancel cancelled",
        "aiohttp.client.ClientSession": (
            "get post put patch delete head options request close closed headers timeout __aenter__ __aexit__"
        ),
        "aiohttp.client._BaseRequestContextManager": "__aenter__ __aexit__",
        "aiohttp.client_reqrep.ClientResponse": _RESPONSE,
        "aiohttp.streams.StreamReader": (
            "read readany readline readexactly readchunk iter_chunked iter_any iter_chunks at_eof __aiter__ "
            "read_nowait readuntil wait_eof total_bytes total_raw_bytes total_compressed_bytes is_eof "
            "exception"
        ),
        "aiohttp.streams.AsyncStreamIterator": "__aiter__ __anext__",
        "aiohttp.streams.ChunkTupleAsyncStreamIterator": "__aiter__ __anext__",
    }.items()
}


def declared(obj: Any) -> frozenset[str] | None:
    """The names `obj`'s class lets the other side use, or None if it declares nothing."""
    own = getattr(type(obj), "_kata_remote", None)
    if own is not None:
        return frozenset(own)
    for cls in type(obj).__mro__:
        names = INTERFACES.get(f"{cls.__module__}.{cls.__qualname__}")
        if names is not None:
            return names
    return None


def may_call(obj: Any) -> bool:
    if isinstance(obj, types.FunctionType | types.MethodType):
        return True
    if isinstance(obj, types.BuiltinMethodType):
        return not isinstance(getattr(obj, "__self__", None), types.ModuleType | type(None))
    if isinstance(obj, functools.partial):
        return may_call(obj.func)
    return callable(obj) and not isinstance(obj, type) and declared(obj) is not None


def may_await(obj: Any) -> bool:
    return inspect.isawaitable(obj)


def lent_only(obj: Any, name: str | None, mode: str) -> bool:
    """The judge's policy for a request from the learner's side (see the module's docstring)."""
    if mode == "await":
        return name is None and may_await(obj)
    if name is None:
        return mode in ("call", "acall") and may_call(obj)
    if name == SIGNATURE and mode == "getattr":
        return may_call(obj)  # its parameters, as data (kata.remote.signatures)
    names = declared(obj)
    return names is not None and name in names


def anything(obj: Any, attr: str | None, mode: str) -> bool:
    """The learner's side's policy: the judge is trusted with everything there."""
    return True
