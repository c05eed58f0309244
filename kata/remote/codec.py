"""Values as data, both ways: what may cross is copied; everything else becomes a reference.

Copied by value, with their exact types kept: None, bool, int, float, str, bytes, bytearray,
list, tuple, dict, set, frozenset, and exceptions (type, arguments, data attributes, notes,
sub-exceptions of a group, where they were raised). A subclass of one of these crosses as
its base: a learner's `list` with an `__eq__` that always says yes arrives as a plain list.

Anything else (a function, a coroutine, an object) crosses as a reference: the side that
owns it keeps it, and the other side gets a proxy (see `kata.remote.proxies`). A reference
that comes back home turns into the original object again.

A `functools.partial` crosses as what it is made of: its function (a reference, or the
original again back home) and its arguments. So `functools.partial(count_primes, n)`, made
in the sandbox around the judge's own function, reaches the judge's process pool as a partial
of that function, which a worker process can be sent (a proxy could not).

Decoding never runs code from the other side: no pickle, no import by name. An exception
type is rebuilt only if it is a builtin, asyncio's, concurrent.futures', aiohttp's, or one
this side sent across itself; any other type gets a stand-in class of the same name under
its nearest known base. Every malformed or oversized tree raises `CodecError`.
"""

from __future__ import annotations

import base64
import builtins
import functools
import math
import sys
from collections.abc import Callable
from typing import Any

from kata.remote import values
from kata.remote.interfaces import declared
from kata.remote.lent_classes import library_class_name
from kata.remote.proxies import protocols_of

MAX_DEPTH = 64
MAX_NODES = 200_000
MAX_NAME = 200
MAX_NOTES = 20
MAX_ATTRIBUTES = 20
MAX_PLACES = 20
MAX_STAND_INS = 256  # classes made for exception types the other side named

ORIGIN = "__kata_origin__"  # on an exception rebuilt here: its id in the sender's exports
PLACES = "__kata_places__"  # on an exception rebuilt here: [(file, line, function), ...]


# Never raised from what the other side sent: each would stop the whole test run, not one test.
NEVER_REBUILT = (KeyboardInterrupt, SystemExit, GeneratorExit)


KINDS = ("class", "async", "coroutine", "task", "awaitable", "executor", "function", "object")
# The kinds whose stand-in may pass for the library class of what it stands for (an awaitable's
# may not: asyncio would take a stand-in passing for a Future for one, and reach for its insides).
CLASSED_KINDS = ("executor", "object")
# The kinds whose stand-in is told what the object there is (its class, its protocols).
STAND_IN_KINDS = ("async", "awaitable", "executor", "function", "object")


class CodecError(Exception):
    """What arrived is not a value this protocol can carry."""


# The most stand-ins one side holds for a test (Exports.hold): far above what a test lends, and a
# bound on what the other side can make this one keep by lending a flood of objects.
MAX_HELD = 10_000


class Exports:
    """The objects this side lent to the other, by number, and the stand-ins it holds for what the
    other side lent (`hold`). They live until `clear` (the test's end)."""

    def __init__(self) -> None:
        self._objects: dict[int, Any] = {}
        self._numbers: dict[int, int] = {}  # id(object) -> number
        self._next = 1
        self._held: dict[int, Any] = {}  # the other side's number -> the stand-in made here
        self._pinned: set[int] = set()

    def number(self, value: Any) -> int:
        known = self._numbers.get(id(value))
        if known is not None and self._objects.get(known) is value:
            return known
        number, self._next = self._next, self._next + 1
        self._objects[number] = value
        self._numbers[id(value)] = number
        return number

    def pin(self, number: int, value: Any) -> None:
        """Lend `value` under a fixed number (the sandbox's host object is number 0)."""
        self._pinned.add(number)
        self._objects[number] = value
        self._numbers[id(value)] = number

    def pinned(self, number: object) -> bool:
        """Whether `number` was lent under a fixed number (the side's own machinery, not code under test)."""
        return type(number) is int and number in self._pinned

    def get(self, number: int) -> Any:
        try:
            return self._objects[number]
        except (KeyError, TypeError):
            raise CodecError(f"no object number {number!r} was lent") from None

    def hold(self, number: int, stand_in: Any) -> None:
        """Keep `stand_in` (made here for the object the other side lent as `number`) alive until
        `clear`.

        In one process an object the tests lend is one object for the whole test. A stand-in
        freed between calls (nothing here held it) broke that: the same object came back as a
        new stand-in with another id, and another object's stand-in could take the freed one's
        id, so a learner's cache keyed by `id(session)` passed 09 in some judge-mode runs. Held
        until the test ends, a stand-in keeps its id and its number finds it again; then they
        all go, so nothing carries over to the next test."""
        if len(self._held) < MAX_HELD:
            self._held[number] = stand_in

    def clear(self, keep: frozenset[int] = frozenset({0})) -> None:
        self._objects = {n: v for n, v in self._objects.items() if n in keep}
        self._numbers = {id(v): n for n, v in self._objects.items()}
        self._held = {}


LIBRARIES = ("asyncio", "concurrent.futures", "concurrent.futures.process", "aiohttp")


def _known_exception_types() -> dict[str, type[BaseException]]:
    """Exception types that may be rebuilt from a name: the builtins, asyncio's,
    concurrent.futures', and aiohttp's when aiohttp is loaded."""
    known: dict[str, type[BaseException]] = {}
    modules = [builtins, *(sys.modules.get(name) for name in LIBRARIES)]
    for module in modules:
        for value in (vars(module) if module is not None else {}).values():
            if (
                isinstance(value, type)
                and issubclass(value, BaseException)
                and not issubclass(value, NEVER_REBUILT)
            ):
                known[_type_name(value)] = value
    return known


def _type_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def kind_of(value: Any) -> str:
    """How a reference's proxy behaves: class, async (calling it gives a coroutine),
    coroutine, task, awaitable, executor, function, or object."""
    import inspect

    if isinstance(value, type):
        return "class"
    asyncio = sys.modules.get("asyncio")
    if asyncio is not None and isinstance(value, asyncio.Task):
        return "task"
    futures = sys.modules.get("concurrent.futures")
    if futures is not None and isinstance(value, futures.Executor):
        return "executor"
    if inspect.iscoroutinefunction(value) or getattr(value, "_kata_async", False):
        return "async"
    if inspect.iscoroutine(value):
        return "coroutine"
    if inspect.isawaitable(value):
        return "awaitable"
    if callable(value):
        return "function"
    return "object"


class Codec:
    """Encode and decode for one side of a channel.

    exports: what this side lends; proxy(number, kind, name): the proxy for an object
    the other side lends; home(value): (the number the other side gave it) if value is one
    of those proxies, else None. places(error): where an error was raised, for messages.
    """

    def __init__(
        self,
        exports: Exports,
        proxy: Callable[..., Any],  # (number, kind, name, named=...)
        home: Callable[[Any], int | None],
        places: Callable[[BaseException], list[tuple[str, int, str]]] | None = None,
    ) -> None:
        self.exports = exports
        self._proxy = proxy
        self._home = home
        self._places = places
        self._sent_types: dict[str, type[BaseException]] = {}
        self._stand_ins: dict[tuple[str, type], type[BaseException]] = {}
        self._known: dict[str, type[BaseException]] | None = None
        self._loaded: tuple[bool, ...] = ()

    # -- encoding -------------------------------------------------------------------------

    def encode(self, value: Any) -> Any:
        return self._encode(value, 0, [0])

    def _encode(self, value: Any, depth: int, count: list[int]) -> Any:
        count[0] += 1
        if depth > MAX_DEPTH or count[0] > MAX_NODES:
            raise CodecError("the value is too big or too deeply nested to send")
        if value is None or value is True or value is False:
            return value
        if isinstance(value, int):
            return int(value)
        if isinstance(value, float):
            value = float(value)
            return value if math.isfinite(value) else {"F": repr(value)}
        if isinstance(value, str):
            return str(value)
        if isinstance(value, bytes):
            return {"b": base64.b64encode(bytes(value)).decode()}
        if isinstance(value, bytearray):
            return {"ba": base64.b64encode(bytes(value)).decode()}
        if isinstance(value, BaseException):
            return {"e": self._encode_exception(value, depth, count)}
        if isinstance(value, type) and issubclass(value, BaseException):
            if not getattr(value, "_kata_stand_in", False) and not issubclass(value, NEVER_REBUILT):
                self._sent_types.setdefault(_type_name(value), value)
            return {"et": [_type_name(c) for c in value.__mro__ if issubclass(c, BaseException)][:16]}
        home = self._home(value)
        if home is not None:
            return {"y": home}
        step = depth + 1
        if type(value) is functools.partial:
            parts = (value.func, value.args, value.keywords)
            return {"p": [self._encode(part, step, count) for part in parts]}
        library = values.value_type(value)
        if library is not None:
            return {"v": [library, self._encode(values.VALUE_TYPES[library][0](value), step, count)]}
        if isinstance(value, tuple):
            return {"t": [self._encode(v, step, count) for v in tuple.__iter__(value)]}
        if isinstance(value, list):
            return {"l": [self._encode(v, step, count) for v in list.__iter__(value)]}
        if isinstance(value, dict):
            items = dict.items(value)
            return {"d": [[self._encode(k, step, count), self._encode(v, step, count)] for k, v in items]}
        if isinstance(value, frozenset):
            return {"fs": [self._encode(v, step, count) for v in frozenset.__iter__(value)]}
        if isinstance(value, set):
            return {"s": [self._encode(v, step, count) for v in set.__iter__(value)]}
        name = getattr(value, "__qualname__", None) or type(value).__qualname__
        if hasattr(value, "get_coro"):  # a task is named after the coroutine it runs
            name = getattr(value.get_coro(), "__qualname__", name)
        kind = kind_of(value)
        sent = [self.exports.number(value), kind, str(name)[:MAX_NAME]]
        named = getattr(value, "__name__", None) is not None
        if kind in STAND_IN_KINDS:
            # Whether it has a name of its own (a function, a class; an instance has none), the
            # library class its stand-in passes for, and the protocols it answers: see
            # kata.remote.lent_classes and proxies.stand_in_class.
            library = library_class_name(value) if kind in CLASSED_KINDS else None
            library = library[:MAX_NAME] if library else None
            sent += [int(named), library, protocols_of(value), declared_names(value)]
        elif not named:
            sent.append(0)  # no name of its own: its stand-in answers no __name__ either
        return {"r": sent}

    def _encode_exception(self, error: BaseException, depth: int, count: list[int]) -> dict:
        home = error.__dict__.get(ORIGIN) if hasattr(error, "__dict__") else None
        cls = type(error)
        if not getattr(cls, "_kata_stand_in", False) and not issubclass(cls, NEVER_REBUILT):
            self._sent_types.setdefault(_type_name(cls), cls)
        tree: dict[str, Any] = {
            "c": [_type_name(c) for c in cls.__mro__ if issubclass(c, BaseException)][:16],
            "a": [self._safe(a, depth, count) for a in error.args[:MAX_ATTRIBUTES]],
            "n": [str(n)[:2000] for n in (getattr(error, "__notes__", None) or [])[:MAX_NOTES]],
            "i": self.exports.number(error),
            "s": _text(error, str),
        }
        if isinstance(home, int):
            tree["o"] = home
        attributes = {}
        for name, attribute in list(getattr(error, "__dict__", {}).items())[: MAX_ATTRIBUTES * 2]:
            if name.startswith("_") or len(attributes) >= MAX_ATTRIBUTES:
                continue
            try:
                attributes[name] = self._encode_data(attribute, depth + 1, count)
            except CodecError:
                continue
        if attributes:
            tree["x"] = attributes
        if isinstance(error, BaseExceptionGroup):
            tree["g"] = [
                str(error.message),
                [self._encode_exception(e, depth + 1, count) for e in error.exceptions],
            ]
        if error.__cause__ is not None and depth < 8:
            tree["cause"] = self._encode_exception(error.__cause__, depth + 1, count)
        elif error.__suppress_context__:
            tree["sc"] = 1  # `raise error from None`
        places = error.__dict__.get(PLACES) if hasattr(error, "__dict__") else None
        if places is None and self._places is not None:
            places = self._places(error)
        if places:
            tree["w"] = [[str(f)[:500], int(n), str(fn)[:MAX_NAME]] for f, n, fn in places[:MAX_PLACES]]
        return tree

    def _safe(self, value: Any, depth: int, count: list[int]) -> Any:
        """An exception's argument: data if it can be, else its repr (never a reference)."""
        try:
            return self._encode_data(value, depth + 1, count)
        except CodecError:
            try:
                return repr(value)[:2000]
            except Exception:
                return f"<{type(value).__qualname__}>"

    def _encode_data(self, value: Any, depth: int, count: list[int]) -> Any:
        tree = self._encode(value, depth, count)
        if _holds_reference(tree):
            raise CodecError("not plain data")
        return tree

    # -- decoding -------------------------------------------------------------------------

    def decode(self, tree: Any) -> Any:
        try:
            return self._decode(tree, 0, [0])
        except CodecError:
            raise
        except (TypeError, ValueError, KeyError, IndexError, AttributeError, RecursionError) as error:
            raise CodecError(f"a malformed value arrived ({type(error).__name__}: {error})") from None

    def _decode(self, tree: Any, depth: int, count: list[int]) -> Any:
        count[0] += 1
        if depth > MAX_DEPTH + 2 or count[0] > MAX_NODES:
            raise CodecError("the value is too big or too deeply nested")
        if tree is None or type(tree) in (bool, int, float, str):
            return tree
        if type(tree) is not dict or len(tree) != 1:
            raise CodecError(f"a malformed value arrived: {str(tree)[:80]}")
        ((tag, body),) = tree.items()
        step = depth + 1
        if tag == "l":
            return [self._decode(v, step, count) for v in _list(body)]
        if tag == "t":
            return tuple(self._decode(v, step, count) for v in _list(body))
        if tag == "d":
            return {self._decode(k, step, count): self._decode(v, step, count) for k, v in _pairs(body)}
        if tag == "s":
            return {self._decode(v, step, count) for v in _list(body)}
        if tag == "fs":
            return frozenset(self._decode(v, step, count) for v in _list(body))
        if tag == "b":
            return base64.b64decode(_str(body), validate=True)
        if tag == "ba":
            return bytearray(base64.b64decode(_str(body), validate=True))
        if tag == "F":
            if body not in ("nan", "inf", "-inf"):
                raise CodecError(f"not a float: {str(body)[:20]}")
            return float(body)
        if tag == "y":
            return self.exports.get(_int(body))
        if tag == "r":
            number, kind, name, *more = _list(body)
            named = more[0] if more else 1
            if (
                kind not in KINDS
                or type(named) is not int
                or named not in (0, 1)
                or len(more) not in (0, 1, 3, 4)
            ):
                raise CodecError(f"unknown kind of object: {str(kind)[:20]}")
            number, name = _int(number), _str(name)[:MAX_NAME]
            if len(more) < 3:
                return self._proxy(number, kind, name, named=bool(named))
            library, protocols = more[1], more[2]
            if library is not None and (kind not in CLASSED_KINDS or type(library) is not str):
                raise CodecError("a malformed class name arrived")
            if kind not in STAND_IN_KINDS or type(protocols) is not int or not 0 <= protocols < 1 << 16:
                raise CodecError("a malformed stand-in arrived")
            library = library[:MAX_NAME] if library is not None else None
            names = _names(more[3]) if len(more) > 3 else frozenset()
            return self._proxy(
                number, kind, name, named=bool(named), library=library, protocols=protocols, names=names
            )
        if tag == "e":
            return self._decode_exception(body, step, count)
        if tag == "p":
            func, args, keywords = (self._decode(part, step, count) for part in _list(body))
            if not callable(func) or type(args) is not tuple or type(keywords) is not dict:
                raise CodecError("a malformed partial arrived")
            if not all(type(key) is str for key in keywords):
                raise CodecError("a partial's keywords must be names")
            return functools.partial(func, *args, **keywords)
        if tag == "v":
            name, data = _list(body)
            try:
                return values.rebuild(_str(name), self._decode(data, step, count))
            except CodecError:
                raise
            except Exception as error:
                raise CodecError(f"a malformed {str(name)[:60]} arrived ({type(error).__name__})") from None
        if tag == "et":
            return self._exception_type([_str(n)[:MAX_NAME] for n in _list(body)][:16], False)
        raise CodecError(f"unknown tag {str(tag)[:20]!r}")

    def _decode_exception(self, body: Any, depth: int, count: list[int]) -> BaseException:
        if type(body) is not dict:
            raise CodecError("a malformed exception arrived")
        if "o" in body:
            original = self.exports.get(_int(body["o"]))
            if isinstance(original, BaseException):
                self._mirror_cause(original, body, depth, count)
                return original
        names = [_str(n)[:MAX_NAME] for n in _list(body.get("c", []))][:16]
        args = tuple(self._decode(a, depth, count) for a in _list(body.get("a", [])))
        group = body.get("g")
        cls = self._exception_type(names, group is not None)
        if group is not None:
            message, members = _list(group)
            inner = [self._decode_exception(e, depth + 1, count) for e in _list(members)]
            if not inner:
                raise CodecError("an exception group with no exceptions arrived")
            if not issubclass(cls, BaseExceptionGroup):
                cls = BaseExceptionGroup
            if issubclass(cls, ExceptionGroup) and not all(isinstance(e, Exception) for e in inner):
                cls = BaseExceptionGroup
            error = cls.__new__(cls, _str(message), inner)
            BaseException.__init__(error, _str(message), inner)
        else:
            error = _instance(_shown_as_sent(cls), args)
        if type(body.get("s")) is str:
            error.__dict__["__kata_str__"] = body["s"][:4000]
        for name, value in dict(body.get("x", {})).items():
            name = _str(name)
            if not name.startswith("_") and not hasattr(type(error), name):
                error.__dict__[name] = self._decode(value, depth, count)
        for note in _list(body.get("n", []))[:MAX_NOTES]:
            error.add_note(_str(note))
        if "cause" in body:
            error.__cause__ = self._decode_exception(body["cause"], depth + 1, count)
        if "w" in body:
            error.__dict__[PLACES] = [(_str(f), _int(n), _str(fn)) for f, n, fn in _list(body["w"])][
                :MAX_PLACES
            ]
        if "i" in body:
            error.__dict__[ORIGIN] = _int(body["i"])
        return error

    def _mirror_cause(self, original: BaseException, body: dict, depth: int, count: list[int]) -> None:
        """An error of this side's, coming home: what the other side's code did to its copy's cause
        is done to it, as that code would have done to the error itself in one process.
        `raise error from None` (the cause wiped) and `raise error from other` (a cause of its own)
        change the very object the caller then catches; judge mode used to hand it back as it was
        sent (a red team's wiped cause passed in judge mode only)."""
        if "cause" in body:
            cause = self._decode_exception(body["cause"], depth + 1, count)
            if original.__cause__ is not cause:
                original.__cause__ = cause
        elif body.get("sc") == 1 and (original.__cause__ is not None or not original.__suppress_context__):
            original.__cause__ = None  # sets __suppress_context__, as `from None` does

    def _exception_type(self, names: list[str], group: bool) -> type[BaseException]:
        loaded = tuple(name in sys.modules for name in LIBRARIES)
        if self._known is None or loaded != self._loaded:
            self._known, self._loaded = _known_exception_types(), loaded
        for index, name in enumerate(names):
            cls = self._sent_types.get(name) or self._known.get(name)
            if cls is None:
                continue
            if index == 0:
                return cls
            return self._stand_in(names[0], cls)
        return self._stand_in(
            names[0] if names else "builtins.Exception", BaseExceptionGroup if group else Exception
        )

    def _stand_in(self, name: str, base: type[BaseException]) -> type[BaseException]:
        key = (name, base)
        if key not in self._stand_ins and len(self._stand_ins) >= MAX_STAND_INS:
            key = (f"remote.{base.__name__}", base)  # one stand-in per base from here on: bounded
            name = key[0]
        if key not in self._stand_ins:
            module, _, qualname = name.rpartition(".")
            self._stand_ins[key] = type(
                qualname.rsplit(".", 1)[-1] or "Error",
                (base,),
                {
                    "__module__": module or "remote",
                    "__qualname__": qualname or "Error",
                    "_kata_stand_in": True,
                },
            )
        return self._stand_ins[key]


def _text(error: BaseException, how) -> str:
    try:
        return how(error)[:4000]
    except Exception:
        return f"{type(error).__qualname__}{error.args!r}"[:4000]


def _told(error: BaseException) -> str:
    return error.__dict__.get("__kata_str__", "")


_SHOWN_AS_SENT: dict[type, type] = {}


def _shown_as_sent(cls: type[BaseException]) -> type[BaseException]:
    """A library's exception type whose str() is the text that was sent: its own __str__ may
    read private state that a rebuilt instance does not have (aiohttp's do)."""
    if cls.__module__ in ("builtins", "asyncio.exceptions") or cls.__module__.startswith("concurrent"):
        return cls
    if cls not in _SHOWN_AS_SENT:
        _SHOWN_AS_SENT[cls] = type(cls.__name__, (cls,), {"__module__": cls.__module__, "__str__": _told})
    return _SHOWN_AS_SENT[cls]


def _instance(cls: type[BaseException], args: tuple) -> BaseException:
    """An instance of cls holding args, without running its __init__."""
    try:
        error = cls.__new__(cls, *args)
    except Exception:
        error = cls.__new__(cls)
    if type(error) is not cls:
        error = cls.__new__(cls)
    error.args = args
    return error


def _holds_reference(tree: Any) -> bool:
    if type(tree) is dict:
        if "r" in tree or "y" in tree:
            return True
        return any(_holds_reference(v) for v in tree.values())
    if type(tree) is list:
        return any(_holds_reference(v) for v in tree)
    return False


MAX_DECLARED = 64


def declared_names(value: Any) -> list[str]:
    """The public names `value`'s class lets the other side use (kata.remote.interfaces.declared),
    for its stand-in's class (kata.remote.proxies.stand_in_class)."""
    names = declared(value) or ()
    return sorted(n for n in names if _public_name(n))[:MAX_DECLARED]


def _public_name(name: Any) -> bool:
    return type(name) is str and name.isidentifier() and not name.startswith("_") and len(name) <= 64


def _names(body: Any) -> frozenset[str]:
    if type(body) is not list or len(body) > MAX_DECLARED or not all(_public_name(n) for n in body):
        raise CodecError("a malformed list of names arrived")
    return frozenset(body)


def _list(body: Any) -> list:
    if type(body) is not list:
        raise CodecError("a malformed value arrived (expected a list)")
    return body


def _pairs(body: Any) -> list:
    pairs = _list(body)
    if not all(type(p) is list and len(p) == 2 for p in pairs):
        raise CodecError("a malformed dict arrived")
    return pairs


def _str(body: Any) -> str:
    if type(body) is not str:
        raise CodecError("a malformed value arrived (expected a string)")
    return body


def _int(body: Any) -> int:
    if type(body) is not int:
        raise CodecError("a malformed value arrived (expected a number)")
    return body
