"""Proxies: what one side holds in place of an object the other side owns.

A `Remote` forwards what Python does with an object (call it, read an attribute, await it,
`async with`, `async for`) over the channel, and the owner does it to the real object. It
compares and hashes by identity only: nothing the owner's code defines (`__eq__`, `__hash__`,
`__bool__`) ever runs on this side.

A coroutine from the other side is a real coroutine here (`inspect.iscoroutine` holds), which
awaits the remote one.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import threading
import types
import weakref
from gc import is_finalized  # bound here, as _weak_ref: the learner's code may replace gc's, weakref's
from typing import TYPE_CHECKING, Any

from kata.remote.lent_classes import library_class
from kata.remote.signatures import SIGNATURE, signature_from

if TYPE_CHECKING:
    from kata.remote.peer import Peer

_weak_ref = weakref.ref  # bound at import: a stand-in's own evidence of a close (see Unstarted)


def _passed_for(stand_in: Any) -> type:
    """The class a stand-in passes for (`__class__`): the library class of what it stands for,
    where the other side named one and it is loaded here (kata.remote.lent_classes); else its
    own type."""
    library = object.__getattribute__(stand_in, "_kata_class")
    if isinstance(library, type):
        return library  # found before: every isinstance a stand-in fails by type asks again
    if library is not None:
        try:
            found = library_class(library)
        except Exception:  # a module of the learner's making in sys.modules: nothing to pass for
            found = None
        if found is not None:
            object.__setattr__(stand_in, "_kata_class", found)
            return found
    return type(stand_in)


class StandIn:
    """What every stand-in for the other side's object does: attributes, identity, its name, the
    class it passes for. Which protocols it answers (call, `async with`, `with`, iteration) is
    its class's: see Remote, and `stand_in_class`."""

    __slots__ = (
        "__weakref__",
        "_kata_class",
        "_kata_kind",
        "_kata_name",
        "_kata_named",
        "_kata_number",
        "_kata_peer",
    )

    def __init__(
        self,
        peer: Peer,
        number: int,
        kind: str,
        name: str,
        named: bool = True,
        library: str | None = None,
    ) -> None:
        object.__setattr__(self, "_kata_peer", peer)
        object.__setattr__(self, "_kata_number", number)
        object.__setattr__(self, "_kata_kind", kind)
        object.__setattr__(self, "_kata_name", name)
        # Whether the object there has a __name__ (a function, a class): one that has none (an
        # instance: a store, a recorder) has none here either, as in one process.
        object.__setattr__(self, "_kata_named", named)
        # The library class it passes for (`isinstance(session, aiohttp.ClientSession)`), named
        # by the other side: see kata.remote.lent_classes.
        object.__setattr__(self, "_kata_class", library)

    __class__ = property(_passed_for)  # type: ignore[assignment]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_kata_"):
            raise AttributeError(name)
        if name in ("__name__", "__qualname__"):
            if not self._kata_named:
                short = self._kata_name.rsplit(".", 1)[-1]
                raise AttributeError(f"'{short}' object has no attribute '{name}'")
            return self._kata_name.rsplit(".", 1)[-1] if name == "__name__" else self._kata_name
        if name == SIGNATURE:
            # `inspect.signature(predicate)`: built here from the owner's data (kata.remote.signatures)
            signature = signature_from(self._kata_peer.request(self._kata_number, "getattr", name))
            if signature is None:
                raise AttributeError(name)
            return signature
        return self._kata_peer.request(self._kata_number, "getattr", name)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(
            f"{self._kata_name} lives in another process: its attributes cannot be set from here"
        )

    def __repr__(self) -> str:
        return f"<{self._kata_name}>"

    def __reduce_ex__(self, protocol: object) -> Any:
        # Sent to a process pool (pickled): one process would send the function itself there; here
        # it lives in the other process, so say so in plain words. On the tests' side (the peer
        # that mirrors the sandbox's loops) what stands here is the learner's code's own: a helper
        # of theirs handed to the pool they were given, whose processes are the tests'.
        if getattr(self._kata_peer, "mirroring", False):
            raise TypeError(
                f"cannot send {self._kata_name} to the pool's processes (pickle it): it is your "
                "code's, and in batch grading your code runs in a process of its own, apart from the "
                "pool you were given, whose processes never load your module; hand the pool what "
                "the tests gave you, with its arguments (`loop.run_in_executor(pool, count_primes, "
                "limit)`)"
            )
        raise TypeError(
            f"cannot send {self._kata_name} to another process (pickle it): it was given to you by "
            "the tests and lives in their process, so only what they gave you can run it (for "
            "computing, the pool you were given)"
        )

    def __copy__(self) -> Any:
        # One object for the whole test, never copied over the channel: a copy is itself, as a
        # function's is in one process (a learner trial's `dataclasses.asdict(lease)` for a log
        # line deep-copied the pool it was lent, and failed in judge mode alone).
        return self

    def __deepcopy__(self, memo: dict) -> Any:
        return self


class _Callable:
    __slots__ = ()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        peer, number = self._kata_peer, self._kata_number
        if self._kata_kind == "async":
            return named(peer.request_async(number, "acall", None, args, kwargs), self._kata_name)
        return peer.request(number, "call", None, args, kwargs)


class _AsyncContext:
    __slots__ = ()

    async def __aenter__(self) -> Any:
        return await self._kata_peer.request_async(self._kata_number, "acall", "__aenter__")

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> Any:
        return await self._kata_peer.request_async(
            self._kata_number, "acall", "__aexit__", (exc_type, exc, None)
        )


class _AsyncIterable:
    __slots__ = ()

    def __aiter__(self) -> Any:
        return self._kata_peer.request(self._kata_number, "call", "__aiter__")


class _AsyncIterator:
    __slots__ = ()

    async def __anext__(self) -> Any:
        return await self._kata_peer.request_async(self._kata_number, "acall", "__anext__")


class _Context:
    __slots__ = ()

    def __enter__(self) -> Any:
        return self._kata_peer.request(self._kata_number, "call", "__enter__")

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> Any:
        return self._kata_peer.request(self._kata_number, "call", "__exit__", (exc_type, exc, None))


class _Iterable:
    __slots__ = ()

    def __iter__(self) -> Any:
        return self._kata_peer.request(self._kata_number, "call", "__iter__")


class _Iterator:
    __slots__ = ()

    def __next__(self) -> Any:
        return self._kata_peer.request(self._kata_number, "call", "__next__")


# A protocol's first method, and the mixin that answers it.
PROTOCOLS = (
    ("__call__", _Callable),
    ("__aenter__", _AsyncContext),
    ("__aiter__", _AsyncIterable),
    ("__anext__", _AsyncIterator),
    ("__enter__", _Context),
    ("__iter__", _Iterable),
    ("__next__", _Iterator),
)


def protocols_of(value: Any) -> int:
    """Which of PROTOCOLS the type of `value` answers, as bits (for `stand_in_class`)."""
    mro = type(value).__mro__
    return sum(1 << bit for bit, (name, _) in enumerate(PROTOCOLS) if _in_class(mro, name))


def _in_class(mro: tuple[type, ...], name: str) -> bool:
    """Whether the class answers `name`, as Python's protocols look it up: in the class and its
    bases (not the metaclass, which `getattr(cls, "__call__")` finds on every class), and not
    set to None (`__iter__ = None`: not iterable)."""
    for cls in mro:
        if name in vars(cls):
            return vars(cls)[name] is not None
    return False


class Remote(
    _Callable, _AsyncContext, _AsyncIterable, _AsyncIterator, _Context, _Iterable, _Iterator, StandIn
):
    """A stand-in that answers every protocol and forwards it: the judge's, for what the sandbox
    lends (what the learner's code does with it decides there)."""

    __slots__ = ()


class _Awaitable:
    __slots__ = ()

    def __await__(self):
        return self._kata_peer.request_async(self._kata_number, "await").__await__()


class RemoteAwaitable(_Awaitable, Remote):
    """An awaitable that is not a coroutine (a task, a future) on the other side."""

    __slots__ = ()


class _Forwarded:
    """A name the object there declares (kata.remote.interfaces), on its stand-in's class: what
    reads a class rather than its instance finds it there, as it finds it on the object's class in
    one process (`inspect.getattr_static`, which runtime_checkable Protocols use from Python 3.12:
    `isinstance(session, HasGet)` was False for a stand-in that forwarded `get` only through
    `__getattr__`). Read on a stand-in, it is fetched there, as any attribute is."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:
            return self
        return instance._kata_peer.request(instance._kata_number, "getattr", self.name)


_STAND_IN_CLASSES: dict[tuple[int, bool, frozenset[str]], type] = {}


def stand_in_class(protocols: int, awaitable: bool, names: frozenset[str] = frozenset()) -> type:
    """A stand-in class that answers exactly the protocols the object there does (`protocols`, as
    `protocols_of` gives them): the sandbox's, for what the judge lends. In one process the
    stream 08 hands over is not iterable (`iter(stream)` raises TypeError, and `isinstance(stream,
    collections.abc.Iterable)` is False); a stand-in that answered every protocol told a learner
    trial's correct answers it was, then failed them ("__iter__ cannot be used from the other
    process") in judge mode alone. `names`: the names the object there declares (see _Forwarded)."""
    key = (protocols & ((1 << len(PROTOCOLS)) - 1), bool(awaitable), frozenset(names))
    found = _STAND_IN_CLASSES.get(key)
    if found is None:
        mixins = [mixin for bit, (_, mixin) in enumerate(PROTOCOLS) if key[0] >> bit & 1]
        bases = (_Awaitable, *mixins, StandIn) if awaitable else (*mixins, StandIn)
        body = {"__slots__": (), **{name: _Forwarded(name) for name in sorted(key[2])}}
        found = _STAND_IN_CLASSES.setdefault(key, type("Remote", bases, body))
    return found


def named(coro: Any, name: str) -> Any:
    """A coroutine named like the function it stands for, so that messages say that name."""
    short = name.rsplit(".", 1)[-1]
    coro.__name__ = short
    coro.__qualname__ = name
    return coro


class Unstarted:
    """What a stand-in coroutine knows of its own start. A stand-in is made already advanced to a
    first, silent `yield` of its own, so that whatever ends it before its body runs runs code of
    ours: a `close()` (the learner's, or a TaskGroup's refusing a task), or a cancel thrown in
    before its task's first step. Ended so, the owner's coroutine is ended quietly too, as the
    stand-in was: in one process such a coroutine says nothing. (From Python 3.12 closing an
    unstarted coroutine runs nothing and keeps its frame until it is collected, so an unstarted
    stand-in could not tell a close from a drop.)

    A stand-in dropped without an await (the mistake) tells nothing: the owner's coroutine stays
    unstarted, as it would in one process, where the owner's records (a fake that keeps the
    coroutines it made) still see it, and Python names it when it is let go. Ending it from here
    would let the sandbox erase the judge's own evidence (a red team did, for 07's release). The
    stand-in tells the two apart by its own evidence, trusting no hook the learner's code could
    replace (weakref.ref and gc.is_finalized are bound when the kata is imported): one being
    collected has lost its weak references before it is finalized (closed), or (from 3.15, in a
    reference cycle) is marked finalized by the collector; one being closed or thrown into is
    alive and not finalized.

    Otherwise it behaves as a coroutine not yet started: it refuses a first value other than None
    (and so stays unawaited for the owner), and inspect.getcoroutinestate calls it CORO_CREATED."""

    __slots__ = ("coroutine", "number", "peer", "settled")

    def __init__(self, peer: Peer, number: int) -> None:
        self.peer, self.number, self.settled = peer, number, False
        self.coroutine: weakref.ref | None = None

    def ended_unstarted(self) -> None:
        if self.settled:
            return
        self.settled = True
        coro = self.coroutine() if self.coroutine is not None else None
        if coro is not None and not is_finalized(coro):
            self.peer.note_unstarted(self.number)


def _stand_in_body(peer: Peer, number: int, unstarted: Unstarted) -> Any:
    try:
        sent = yield  # made: where a stand-in waits to be awaited (see Unstarted)
    except BaseException:
        unstarted.ended_unstarted()
        raise
    unstarted.settled = True
    if sent is not None:
        # An unstarted coroutine refuses a value, and stays unstarted: for the owner it was never
        # awaited (the red team's `release().send(1)` had started the judge's call).
        raise TypeError("can't send non-None value to a just-started coroutine")
    return (yield from peer.request_async(number, "await").__await__())


def _as_coroutine_function(function: Any) -> Any:
    """A generator function whose calls make real coroutines (`inspect.iscoroutine` holds).
    A coroutine the compiler makes can only pause inside an `await`, and one paused there cannot
    be awaited again ("coroutine is being awaited already"): one paused at a plain `yield` can,
    and that `yield` is where a stand-in waits."""
    code = function.__code__
    flags = (code.co_flags & ~inspect.CO_GENERATOR) | inspect.CO_COROUTINE
    return types.FunctionType(code.replace(co_flags=flags), function.__globals__, function.__name__)


_awaiting = _as_coroutine_function(_stand_in_body)


def remote_coroutine(peer: Peer, number: int, name: str) -> Any:
    witness = Unstarted(peer, number)
    coro = named(_awaiting(peer, number, witness), name)
    witness.coroutine = _weak_ref(coro)
    coro.send(None)  # to its silent first `yield`: see Unstarted
    return coro


def _witness(coro: Any) -> Unstarted | None:
    if getattr(coro, "cr_code", None) is not _awaiting.__code__:
        return None  # not a stand-in: its frame is not read
    frame = coro.cr_frame
    unstarted = frame.f_locals.get("unstarted") if frame is not None else None
    return unstarted if isinstance(unstarted, Unstarted) else None


def is_unstarted_stand_in(coro: Any) -> bool:
    """A stand-in not yet awaited (advanced only to its silent first step)."""
    unstarted = _witness(coro)
    return unstarted is not None and not unstarted.settled


def _coroutine_state(coroutine: Any, _state: Any = inspect.getcoroutinestate) -> str:
    """inspect.getcoroutinestate, for which a stand-in not yet awaited is CORO_CREATED, as the
    coroutine it stands for is (it is made paused at its silent first step: see Unstarted).

    It replaces inspect.getcoroutinestate for the whole process, on import (in the sandbox, and in
    the judge where this module is imported too): a coroutine's state cannot be given by the
    coroutine itself. Any other coroutine gets inspect's own answer, unchanged."""
    if type(coroutine) is types.CoroutineType and is_unstarted_stand_in(coroutine):
        return inspect.CORO_CREATED
    return _state(coroutine)


inspect.getcoroutinestate = _coroutine_state


def quiet_stand_in(coro: Any) -> None:
    """A stand-in sent home unstarted: the owner's coroutine is the one that runs (or is never
    awaited, which the owner then sees); this one never will, so it goes without a word."""
    unstarted = _witness(coro)
    if unstarted is not None:
        unstarted.settled = True
    coro.close()


class RemoteClass(type):
    """The type of a class that lives on the other side: `inspect.isclass` holds, its name is
    the remote one, and calling it makes an instance there (a proxy here)."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        return cls._kata_peer.request(cls._kata_number, "call", None, args, kwargs)

    def __getattr__(cls, name: str) -> Any:
        if name.startswith("_kata_"):
            raise AttributeError(name)
        return cls._kata_peer.request(cls._kata_number, "getattr", name)

    def __repr__(cls) -> str:
        return f"<class {cls.__qualname__}>"


def remote_class(peer: Peer, number: int, name: str) -> RemoteClass:
    short = name.rsplit(".", 1)[-1]
    return RemoteClass(short, (), {"__qualname__": name, "_kata_peer": peer, "_kata_number": number})


def remote_task(peer: Peer, number: int, name: str) -> Any:
    """A task here that ends as the task there ends: `isinstance(_, asyncio.Task)` holds, and
    cancelling it cancels the one there, even before its first step. Outside a running loop, an
    awaitable proxy."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return RemoteAwaitable(peer, number, "task", name)
    coro = named(_awaiting_a_task(peer, number), name)
    coro.send(None)  # to its first `yield`: a cancel before the task's first step lands there
    return loop.create_task(coro)


def _task_stand_in_body(peer: Peer, number: int) -> Any:
    try:
        yield  # made: the task's first step resumes it here
    except asyncio.CancelledError:
        # Cancelled before its first step: in one process this task is the very task there, and
        # the cancel reaches what that task runs. A learner trial's eager tasks (3.12+: their
        # calls start before start_downloads returns) let 03's test cancel one at once: the task
        # here ended, the download there ran on. So the cancel is carried there, and this task
        # ends as that one does.
        return (yield from _cancelled_there(peer, number).__await__())
    return (yield from peer.request_async(number, "await").__await__())


async def _cancelled_there(peer: Peer, number: int) -> Any:
    from kata.remote.peer import PeerLost  # here: that module imports this one

    # Asked again of this very task: delivered at the first wait of the await below, which then
    # cancels the task there and waits for how it ended (kata.remote.peer.Peer.request_async).
    asyncio.current_task().cancel()
    try:
        return await peer.request_async(number, "await")
    except PeerLost:
        # Nobody is left there to carry the cancel to (a test's loop shutting down cancels the
        # stand-ins it never ran, after the sandbox has gone): it ends here, as it was asked.
        raise asyncio.CancelledError() from None


_awaiting_a_task = _as_coroutine_function(_task_stand_in_body)


class RemoteExecutor(concurrent.futures.Executor):
    """An executor there, usable here as one (`loop.run_in_executor` needs a real executor and
    real futures): each job is submitted there, and its outcome waited for by a thread here."""

    def __init__(self, peer: Peer, number: int, name: str, library: str | None = None) -> None:
        self._kata_peer, self._kata_number, self._kata_name = peer, number, name
        self._kata_class = library  # the pool's class, for isinstance: see Remote

    __class__ = property(_passed_for)  # type: ignore[assignment]

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> concurrent.futures.Future:
        peer = self._kata_peer
        there = peer.request(self._kata_number, "call", "submit", (fn, *args), kwargs)
        here: concurrent.futures.Future = concurrent.futures.Future()

        def wait() -> None:
            try:
                value = peer.request(there._kata_number, "call", "result")
            except BaseException as error:
                if here.set_running_or_notify_cancel():
                    here.set_exception(error)
            else:
                if here.set_running_or_notify_cancel():
                    here.set_result(value)

        threading.Thread(target=wait, name=f"kata-remote-job-{self._kata_name}", daemon=True).start()
        return here

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._kata_peer.request(
            self._kata_number, "call", "shutdown", (wait,), {"cancel_futures": cancel_futures}
        )

    def __repr__(self) -> str:
        return f"<{self._kata_name}>"
