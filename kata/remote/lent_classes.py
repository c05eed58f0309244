"""The library class a lent object is an instance of, for `isinstance` on its stand-in.

In one process the session the tests hand to `fetch_json` is an `aiohttp.ClientSession`, and the
pool 10 hands over is a `ProcessPoolExecutor`: a learner's guard `isinstance(session,
aiohttp.ClientSession)` holds. In batch grading what the learner's code holds is a stand-in
(kata.remote.proxies), and a learner trial's correct answers failed there on that guard alone.

So the judge names, with each object it lends, the first class of its type that a library
defines (asyncio, concurrent.futures, aiohttp), and the sandbox's stand-in answers `__class__`
with that class, as `unittest.mock` does for a spec: `isinstance` then holds for it and its
bases, and `type()` still names the stand-in. Only a name crosses, and the sandbox resolves it
among modules already loaded there, to a class of those libraries; a name that does not resolve
so is ignored. The judge never takes a class from the sandbox (Peer.trusts_lent_classes).

Classes that are also a builtin type (a tuple, a dict: BasicAuth is a namedtuple) are never
named: a stand-in must not pass for data the codec would read as such.
"""

from __future__ import annotations

import sys
from typing import Any

LIBRARIES = ("asyncio", "concurrent.futures", "aiohttp")


def _of_a_library(module: str) -> bool:
    return any(module == name or module.startswith(name + ".") for name in LIBRARIES)


def _also_builtin_data(cls: type) -> bool:
    """Whether `cls` is also a builtin type (a tuple, a dict): never passed for (module doc)."""
    return any(base.__module__ == "builtins" for base in cls.__mro__[:-1])


def library_class_name(value: Any) -> str | None:
    """'module:qualname' of the first class of `value`'s type that a library defines, or None."""
    for cls in type(value).__mro__[:-1]:
        module = getattr(cls, "__module__", None)
        if not isinstance(module, str) or module == "builtins":
            return None
        if _of_a_library(module):
            return None if _also_builtin_data(cls) else f"{module}:{cls.__qualname__}"
    return None


def library_class(name: str) -> type | None:
    """The class `library_class_name` named, if its module is loaded here; else None. Never
    imports anything: a learner's `isinstance(x, aiohttp.ClientSession)` has loaded its module."""
    module_name, _, qualname = name.partition(":")
    if not _of_a_library(module_name) or not qualname:
        return None
    found: Any = sys.modules.get(module_name)
    for part in qualname.split("."):
        found = getattr(found, part, None) if found is not None else None
    if not isinstance(found, type) or getattr(found, "__module__", None) != module_name:
        return None
    return None if _also_builtin_data(found) else found
