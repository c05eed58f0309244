"""Variants derived by program from the reference solutions: proof the tests judge behaviour.

Hand-written variants (tests/variants/) show what their authors thought of. These are
made by rewriting each solution in solutions/ with `ast`, the same way for every exercise:

- WRONG versions (the tests must fail at least one test): the same code with one classic
  mistake put in everywhere its pattern occurs: gather made sequential, a TaskGroup or
  create_task whose tasks run one at a time, a blocking sleep (every use of asyncio.sleep,
  a default `sleep=asyncio.sleep` too), a semaphore or connector limit taken away, a lock
  that lets everyone in, timeouts that never fire, a shield taken away, as_completed in
  the order given, a timeout that covers only a reply's headers, cleanup moved out of its
  `finally`, an Event or Condition polled instead of waited on (every 30 ms, every 70 ms),
  a backoff sleep after the last attempt too, a start time recorded before the wait;
- EQUIVALENT rewrites (the tests must pass every test): `await asyncio.gather(...)` done
  with a TaskGroup, or with create_task for each and an await for each, in order.

Most rewrites call a small helper (the prelude) put right after the module docstring;
the others move statements (a `finally`, a sleep, a clock reading) and need none.
A kind is derived for a solution only where its pattern occurs; one variant per kind and
solution rewrites every site of that pattern, and `changes` counts them.

`taskgroup-as-gather` is not derived: a TaskGroup cancels its other tasks when one fails,
raises an ExceptionGroup, and accepts new tasks until it ends (the capstone adds tasks
from inside its tasks); gather does none of these, so no local rewrite is safe.
"""

from __future__ import annotations

import ast
import copy
import tempfile
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from kata.catalog import Exercise
from kata.report import TestResult
from kata.runner import Run, run_tests

WALL_LIMIT = 300.0
FALSE_PASS = "this wrong version passed every test: a false pass"
NOT_GRADED = "no test ran against it"

# Calls whose result is already running (a task, a future): gathering them one after another
# changes nothing, so a gather of these is not a site for sequential-gather.
_ALREADY_STARTED = {"create_task", "ensure_future", "run_in_executor", "wrap_future", "gather", "shield"}


@dataclass(frozen=True)
class Derived:
    stem: str  # exercise stem
    kind: str  # e.g. "sequential-gather", "gather-as-taskgroup"
    wrong: bool  # True: the tests must catch it; False: an equivalent rewrite the tests must pass
    source: str  # the whole derived module
    changes: int  # how many sites were rewritten (>= 1, else the variant is not produced)


# --- the preludes: helpers the rewritten sites call ---------------------------------------

_ONE_AT_A_TIME = '''
import asyncio as _asyncio


def _check_coroutine(coro):
    if not _asyncio.iscoroutine(coro):
        raise TypeError(f"a coroutine was expected, got {coro!r}")


async def _one_at_a_time(lock, coro):
    """Run `coro` while holding `lock`: coroutines that share the lock never overlap."""
    try:
        await lock.acquire()
    except BaseException:
        coro.close()  # cancelled before its turn: it never runs (and is not "never awaited")
        raise
    try:
        return await coro
    finally:
        lock.release()
'''

_POLLED = '''
import asyncio as _asyncio


async def _polled_wait(event, period):
    """Event.wait made WRONG: looks at the flag every `period` seconds instead of waiting on it."""
    if not hasattr(event, "is_set"):
        return await event.wait()  # not an Event (a Barrier, a process): waited on as before
    while not event.is_set():
        await _asyncio.sleep(period)
    return True


async def _polled_wait_for(condition, predicate, period):
    """Condition.wait_for made WRONG: lets go of the lock, sleeps `period` seconds, takes the
    lock back and asks `predicate` again, instead of sleeping until notified."""
    if not hasattr(condition, "release"):
        return await condition.wait_for(predicate)  # not a Condition: waited on as before
    result = predicate()
    while not result:
        condition.release()  # nobody else could advance while we held it
        try:
            await _asyncio.sleep(period)
        finally:
            await condition.acquire()  # held again when we return, as wait_for promises
        result = predicate()
    return result
'''

_PRELUDES = {
    "sequential-gather": '''
import asyncio as _asyncio


async def _sequential_gather(*aws, return_exceptions=False):
    """asyncio.gather made WRONG: awaits each awaitable in turn, never two at once."""
    aws = list(aws)
    results = []
    for index, aw in enumerate(aws):
        try:
            results.append(await aw)
        except (Exception, _asyncio.CancelledError) as error:
            cancelled_here = isinstance(error, _asyncio.CancelledError) and (
                _asyncio.current_task().cancelling() > 0
            )
            if not return_exceptions or cancelled_here:
                for rest in aws[index + 1 :]:
                    if _asyncio.iscoroutine(rest):
                        rest.close()  # never started, and never will be
                raise
            results.append(error)
    return results
''',
    "sequential-taskgroup": _ONE_AT_A_TIME
    + '''

class _SequentialTaskGroup:
    """asyncio.TaskGroup made WRONG: each of its tasks waits until the one before has ended."""

    def __init__(self):
        self._group = _asyncio.TaskGroup()
        self._lock = _asyncio.Lock()

    async def __aenter__(self):
        await self._group.__aenter__()
        return self

    async def __aexit__(self, exc_type, exc, tb):
        return await self._group.__aexit__(exc_type, exc, tb)

    def create_task(self, coro, **kwargs):
        _check_coroutine(coro)
        return self._group.create_task(_one_at_a_time(self._lock, coro), **kwargs)
''',
    "eager-create-task": _ONE_AT_A_TIME
    + '''
import weakref as _weakref

_sequential_locks = _weakref.WeakKeyDictionary()  # one lock per event loop


def _sequential_task(coro, **kwargs):
    """asyncio.create_task made WRONG: the tasks it makes run one at a time, in order."""
    _check_coroutine(coro)
    loop = _asyncio.get_running_loop()
    lock = _sequential_locks.get(loop)
    if lock is None:
        lock = _sequential_locks[loop] = _asyncio.Lock()
    return _asyncio.create_task(_one_at_a_time(lock, coro), **kwargs)
''',
    "blocking-sleep": '''
import asyncio as _asyncio
import time as _time


def _blocking_sleep(delay, result=None):
    """asyncio.sleep made WRONG: time.sleep freezes the event loop, then a finished awaitable."""
    _time.sleep(max(delay, 0))
    future = _asyncio.get_running_loop().create_future()
    future.set_result(result)
    return future
''',
    "unbounded-semaphore": """
import asyncio as _asyncio
""",
    "no-lock": '''
class _NoLock:
    """asyncio.Lock made WRONG: it never makes anyone wait, so every task is inside at once."""

    def locked(self):
        return False

    async def acquire(self):
        return True

    def release(self):
        return None

    async def __aenter__(self):
        return None

    async def __aexit__(self, exc_type, exc, tb):
        return None
''',
    "no-shield": '''
def _no_shield(aw):
    """asyncio.shield made WRONG: the awaitable itself, so a cancellation reaches it."""
    return aw
''',
    "no-timeout": '''
class _NoTimeout:
    """asyncio.timeout made WRONG: a context manager that never times out."""

    def __init__(self, delay):
        self.delay = delay

    async def __aenter__(self):
        return self

    async def __aexit__(self, exc_type, exc, tb):
        return None


async def _no_wait_for(aw, timeout=None):
    """asyncio.wait_for made WRONG: waits as long as `aw` takes."""
    return await aw
''',
    "as-completed-in-order": '''
import asyncio as _asyncio


def _in_given_order(aws, *, timeout=None):
    """asyncio.as_completed made WRONG: all start at once, but come back in the order given."""
    tasks = [_asyncio.ensure_future(aw) for aw in aws]
    yield from tasks
''',
    "timeout-on-headers-only": '''
import asyncio as _asyncio


class _HeadersOnly:
    """A request's timeout made WRONG: it covers the wait for the headers, not the body read after."""

    def __init__(self, request, timeout):
        self._request = request  # session.get(...), not entered yet
        self._timeout = timeout  # asyncio.timeout(...), not entered yet

    async def __aenter__(self):
        async with self._timeout:
            return await self._request.__aenter__()

    async def __aexit__(self, exc_type, exc, tb):
        return await self._request.__aexit__(exc_type, exc, tb)
''',
    "polling-wait-30ms": _POLLED,
    "polling-wait-70ms": _POLLED,
    "gather-as-taskgroup": '''
import asyncio as _asyncio


async def _awaited(aw):
    return await aw


async def _gather_taskgroup(*aws):
    """`await asyncio.gather(*aws)` with a TaskGroup: the results in order, the first error as it is."""
    try:
        async with _asyncio.TaskGroup() as group:
            tasks = [group.create_task(aw if _asyncio.iscoroutine(aw) else _awaited(aw)) for aw in aws]
    except BaseExceptionGroup as failures:
        first = failures.exceptions[0]
    else:
        return [task.result() for task in tasks]
    raise first
''',
    "gather-as-create-task": '''
import asyncio as _asyncio


def _retrieve(task):
    """Read a finished task's outcome, as gather does, so that no error goes unretrieved."""
    if not task.cancelled():
        task.exception()


async def _gather_create_task(*aws):
    """`await asyncio.gather(*aws)` as create_task for each, then an await for each, in order.

    Like gather, the first error is raised as soon as it happens (the others run on), and
    when the caller is cancelled, so is every task.
    """
    tasks = [
        _asyncio.create_task(aw) if _asyncio.iscoroutine(aw) else _asyncio.ensure_future(aw) for aw in aws
    ]
    for task in tasks:
        task.add_done_callback(_retrieve)
    if tasks:
        try:
            await _asyncio.wait(tasks, return_when=_asyncio.FIRST_EXCEPTION)
        except _asyncio.CancelledError:
            for task in tasks:
                task.cancel()
            raise
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            raise task.exception()
    return [await task for task in tasks]
''',
}


# --- finding the names a module gives asyncio and aiohttp ---------------------------------


class _Imports:
    """How a module refers to asyncio and aiohttp: `import asyncio [as a]`, `from asyncio import x`."""

    MODULES = ("asyncio", "aiohttp")

    def __init__(self, tree: ast.Module) -> None:
        self.modules: dict[str, str] = {}  # local name -> module
        self.members: dict[str, tuple[str, str]] = {}  # local name -> (module, member)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name in self.MODULES:
                        self.modules[alias.asname or alias.name] = alias.name
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module in self.MODULES:
                for alias in node.names:
                    self.members[alias.asname or alias.name] = (node.module, alias.name)

    def target(self, func: ast.expr) -> tuple[str, str] | None:
        """("asyncio", "gather") for `asyncio.gather`, `aio.gather` or an imported `gather`."""
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            module = self.modules.get(func.value.id)
            return (module, func.attr) if module else None
        if isinstance(func, ast.Name):
            return self.members.get(func.id)
        return None


# --- the rewrites -------------------------------------------------------------------------


class _Rewrite(ast.NodeTransformer):
    """Rewrites the sites of one pattern; `changes` counts them."""

    def __init__(self, imports: _Imports, taken: Iterable[str] = ()) -> None:
        self.imports = imports
        self.changes = 0
        self.taken = set(taken)  # the names the module uses: a new local name must avoid them

    def fresh(self, base: str) -> str:
        """A name the module does not use yet: `base`, else `base_2`, `base_3`, ..."""
        name, number = base, 1
        while name in self.taken:
            number += 1
            name = f"{base}_{number}"
        self.taken.add(name)
        return name

    def is_(self, node: ast.AST, module: str, *names: str) -> bool:
        if not isinstance(node, ast.Call):
            return False
        found = self.imports.target(node.func)
        return found is not None and found[0] == module and found[1] in names

    def call_helper(self, node: ast.Call, helper: str) -> ast.Call:
        self.changes += 1
        node.func = ast.Name(helper, ast.Load())
        return node


def _callee_name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _coroutine_call(node: ast.expr) -> bool:
    """A call that makes a coroutine, as far as the syntax tells: not a task or a future."""
    return isinstance(node, ast.Call) and _callee_name(node) not in _ALREADY_STARTED


def _starts_coroutines(call: ast.Call) -> bool:
    """gather(f(a), g(b)) or gather(*(f(x) for x in xs)): gather itself starts these calls."""
    if not call.args:
        return False
    for arg in call.args:
        if isinstance(arg, ast.Starred):
            value = arg.value
            if isinstance(value, ast.GeneratorExp | ast.ListComp):
                if not _coroutine_call(value.elt):
                    return False
            elif isinstance(value, ast.List | ast.Tuple):
                if not value.elts or not all(_coroutine_call(e) for e in value.elts):
                    return False
            else:
                return False  # a name: it may hold tasks that already run
        elif not _coroutine_call(arg):
            return False
    return True


class _CallToHelper(_Rewrite):
    """`asyncio.<one of names>(...)` -> `helper(...)`, same arguments, at every site `applies` to."""

    names: tuple[str, ...] = ()
    helper = ""

    def applies(self, node: ast.Call) -> bool:
        return True

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if self.is_(node, "asyncio", *self.names) and self.applies(node):
            return self.call_helper(node, self.helper)
        return node


class _SequentialGather(_CallToHelper):
    names, helper = ("gather",), "_sequential_gather"

    def applies(self, node: ast.Call) -> bool:
        return _starts_coroutines(node)


class _SequentialTaskGroup(_CallToHelper):
    names, helper = ("TaskGroup",), "_SequentialTaskGroup"

    def applies(self, node: ast.Call) -> bool:
        return not node.args and not node.keywords


class _SequentialTask(_CallToHelper):
    names, helper = ("create_task",), "_sequential_task"


class _BlockingSleep(_Rewrite):
    """Every use of asyncio.sleep, called or passed on (a default `sleep=asyncio.sleep`), blocks."""

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        self.generic_visit(node)
        return self._swap(node)

    def visit_Name(self, node: ast.Name) -> ast.AST:
        return self._swap(node)

    def _swap(self, node: ast.Attribute | ast.Name) -> ast.AST:
        if isinstance(node.ctx, ast.Load) and self.imports.target(node) == ("asyncio", "sleep"):
            self.changes += 1
            return ast.copy_location(ast.Name("_blocking_sleep", ast.Load()), node)
        return node


class _Unbounded(_Rewrite):
    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if self.is_(node, "asyncio", "Semaphore", "BoundedSemaphore"):
            self.changes += 1
            module = (
                node.func.value if isinstance(node.func, ast.Attribute) else ast.Name("_asyncio", ast.Load())
            )
            million = ast.BinOp(ast.Constant(10), ast.Pow(), ast.Constant(6))
            return ast.Call(ast.Attribute(module, "Semaphore", ast.Load()), [million], [])
        if self.is_(node, "aiohttp", "TCPConnector"):
            for keyword in node.keywords:
                if keyword.arg in ("limit", "limit_per_host") and not (
                    isinstance(keyword.value, ast.Constant) and keyword.value.value == 0
                ):
                    keyword.value = ast.Constant(0)  # 0: no limit
                    self.changes += 1
        return node


class _NoLock(_CallToHelper):
    names, helper = ("Lock",), "_NoLock"


class _NoShield(_CallToHelper):
    names, helper = ("shield",), "_no_shield"


class _NoTimeout(_Rewrite):
    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if self.is_(node, "asyncio", "timeout", "timeout_at"):
            return self.call_helper(node, "_NoTimeout")
        if self.is_(node, "asyncio", "wait_for"):
            return self.call_helper(node, "_no_wait_for")
        if self.is_(node, "aiohttp", "ClientTimeout") and (node.args or node.keywords):
            self.changes += 1
            node.args, node.keywords = [], []
        return node


class _InGivenOrder(_CallToHelper):
    names, helper = ("as_completed",), "_in_given_order"


def _walk_here(nodes: Iterable[ast.AST]) -> Iterable[ast.AST]:
    """Every node in `nodes`, as ast.walk, but not inside the functions and classes defined there."""
    todo = list(nodes)
    while todo:
        node = todo.pop()
        yield node
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            todo.extend(ast.iter_child_nodes(node))


def _names(node: ast.AST) -> set[str]:
    return {name.id for name in ast.walk(node) if isinstance(name, ast.Name)}


def _is_sleep(node: ast.AST) -> bool:
    """`await <...>sleep(...)`: asyncio.sleep, or a `sleep` function handed in."""
    return (
        isinstance(node, ast.Await)
        and isinstance(node.value, ast.Call)
        and _callee_name(node.value).endswith("sleep")
    )


# session.get(url) and the like; what a block reads of the response it names.
_REQUESTS = {"get", "post", "put", "patch", "delete", "head", "options", "request"}
_BODY_READS = {"json", "text", "read", "content"}


def _reads_body(item: ast.withitem, body: list[ast.stmt]) -> bool:
    """`async with session.get(...) as r:` whose block reads r's body (r.json(), r.content, ...)."""
    request, name = item.context_expr, item.optional_vars
    if not (
        isinstance(request, ast.Call)
        and isinstance(request.func, ast.Attribute)
        and request.func.attr in _REQUESTS
        and isinstance(name, ast.Name)
    ):
        return False
    return any(
        isinstance(node, ast.Attribute)
        and node.attr in _BODY_READS
        and isinstance(node.value, ast.Name)
        and node.value.id == name.id
        for node in _walk_here(body)
    )


class _TimeoutOnHeadersOnly(_Rewrite):
    """A reply's time limit made WRONG: it covers the wait for the headers, not the body read after.

    Sites: an `async with` request whose block reads the response's body, limited by
    `timeout=aiohttp.ClientTimeout(total=t)`, or by `asyncio.timeout(t)` just before it in the
    same `async with` or as a block holding only the request's block. It becomes
    `async with _HeadersOnly(session.get(url), asyncio.timeout(t)) as r:`, so the time limit ends
    once the headers are in and the body then takes as long as it takes.
    """

    def visit_AsyncWith(self, node: ast.AsyncWith) -> ast.AST:
        self.generic_visit(node)
        if len(node.items) == 1 and len(node.body) == 1 and isinstance(node.body[0], ast.AsyncWith):
            inner = node.body[0]  # `async with asyncio.timeout(t):` around the request's block alone
            joined = ast.AsyncWith([node.items[0], *inner.items], inner.body)
            if self._limit_headers(joined):
                return ast.copy_location(joined, node)
        self._limit_headers(node)
        return node

    def _limit_headers(self, node: ast.AsyncWith) -> bool:
        changes = self.changes
        items: list[ast.withitem] = []
        for item in node.items:
            if not _reads_body(item, node.body):
                items.append(item)
                continue
            request = item.context_expr
            timeout = self._client_timeout(request)
            if timeout is None and items and self._asyncio_timeout(items[-1]):
                timeout = items.pop().context_expr
            if timeout is not None:
                item.context_expr = ast.Call(ast.Name("_HeadersOnly", ast.Load()), [request, timeout], [])
                self.changes += 1
            items.append(item)
        node.items = items
        return self.changes > changes

    def _asyncio_timeout(self, item: ast.withitem) -> bool:
        return item.optional_vars is None and self.is_(item.context_expr, "asyncio", "timeout", "timeout_at")

    def _client_timeout(self, request: ast.Call) -> ast.Call | None:
        """`timeout=aiohttp.ClientTimeout(total=t)`: taken off the request; asyncio.timeout(t) returned."""
        for keyword in request.keywords:
            limit = keyword.value
            if keyword.arg != "timeout" or not self.is_(limit, "aiohttp", "ClientTimeout"):
                continue
            totals = [k.value for k in limit.keywords if k.arg == "total"] or limit.args[:1]
            if totals:
                request.keywords.remove(keyword)
                seconds = ast.Attribute(ast.Name("_asyncio", ast.Load()), "timeout", ast.Load())
                return ast.Call(seconds, totals, [])
        return None


class _RunsFirst(ast.NodeTransformer):
    """Puts a copy of `cleanup` before each `return` of a block, and each `break` or `continue`
    that leaves it: the ways out that are not an error."""

    def __init__(self, cleanup: list[ast.stmt], returned: str) -> None:
        self.cleanup, self.returned = cleanup, returned
        self.loops = 0  # loops entered inside the block: a break there stays inside

    def block(self, statements: list[ast.stmt]) -> list[ast.stmt]:
        done: list[ast.stmt] = []
        for statement in statements:
            new = self.visit(statement)
            done.extend(new if isinstance(new, list) else [new])
        return done

    def visit_Return(self, node: ast.Return) -> list[ast.stmt]:
        if node.value is None or isinstance(node.value, ast.Constant):
            return [*copy.deepcopy(self.cleanup), node]
        # The value is worked out first, then the cleanup runs: the order a `finally` keeps.
        keep = ast.Assign([ast.Name(self.returned, ast.Store())], node.value)
        return [keep, *copy.deepcopy(self.cleanup), ast.Return(ast.Name(self.returned, ast.Load()))]

    def visit_Break(self, node: ast.Break | ast.Continue) -> ast.AST | list[ast.stmt]:
        return node if self.loops else [*copy.deepcopy(self.cleanup), node]

    visit_Continue = visit_Break

    def visit_For(self, node: ast.For | ast.AsyncFor | ast.While) -> ast.AST:
        self.loops += 1
        node.body = self.block(node.body)
        self.loops -= 1
        node.orelse = self.block(node.orelse)  # a break in a loop's else leaves the block
        return node

    visit_AsyncFor = visit_While = visit_For

    def visit_FunctionDef(self, node: ast.AST) -> ast.AST:
        return node  # its returns are its own

    visit_AsyncFunctionDef = visit_ClassDef = visit_Lambda = visit_FunctionDef


class _CleanupOutsideFinally(_Rewrite):
    """`try: ... finally: <cleanup>` made WRONG: the cleanup comes after the try instead of in its
    `finally`, so an error or a cancellation skips it (a connection never released, tasks never
    cancelled, a queue item never marked done).

    Every other way out still runs it, as a learner writing it out would: a `return` (its value
    worked out first), a `break` or `continue` that leaves the try, the end of the try. A try with
    `except` keeps its handlers: what they catch still reaches the cleanup.
    """

    def __init__(self, imports: _Imports, taken: Iterable[str] = ()) -> None:
        super().__init__(imports, taken)
        self.returned = self.fresh("_returned")

    def visit_Try(self, node: ast.Try | ast.TryStar) -> ast.AST | list[ast.stmt]:
        self.generic_visit(node)
        if not node.finalbody:
            return node
        cleanup, node.finalbody = node.finalbody, []
        first = _RunsFirst(cleanup, self.returned)
        node.body, node.orelse = first.block(node.body), first.block(node.orelse)
        for handler in node.handlers:
            handler.body = first.block(handler.body)
        statements = [node] if node.handlers else node.body
        if not isinstance(statements[-1], ast.Return | ast.Raise | ast.Break | ast.Continue):
            statements = [*statements, *cleanup]
        self.changes += 1
        return statements

    visit_TryStar = visit_Try


class _PollingWait(_Rewrite):
    """`await event.wait()` and `await condition.wait_for(predicate)` made WRONG: a loop that
    looks every `period` seconds (a Condition's lock let go while it sleeps), so it wakes late.

    Sites: `x.wait()` and `x.wait_for(predicate)` (not asyncio.wait_for), awaited or handed to
    an asyncio function (`asyncio.wait_for(stop.wait(), timeout=t)`). At run time, a receiver
    that is no Event (no is_set) or no Condition (no release) is waited on as before.
    """

    period = 0.0

    def visit_Await(self, node: ast.Await) -> ast.AST:
        self.generic_visit(node)
        node.value = self._polled(node.value)
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        found = self.imports.target(node.func)
        if found is not None and found[0] == "asyncio":
            node.args = [self._polled(arg) for arg in node.args]
        return node

    def _polled(self, node: ast.expr) -> ast.expr:
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)) or node.keywords:
            return node
        if self.imports.target(node.func) is not None:
            return node  # asyncio.wait_for itself
        method, arity = node.func.attr, len(node.args)
        helpers = {("wait", 0): "_polled_wait", ("wait_for", 1): "_polled_wait_for"}
        if (method, arity) not in helpers:
            return node
        node.args = [node.func.value, *node.args, ast.Constant(self.period)]
        return self.call_helper(node, helpers[method, arity])


class _PollingEvery30ms(_PollingWait):
    period = 0.03


class _PollingEvery70ms(_PollingWait):
    period = 0.07


class _SleepAfterLastAttempt(_Rewrite):
    """A retry loop made WRONG: after the last attempt fails it still waits its backoff, then raises.

    Sites: `for attempt in ...:` holding a `try` whose handler gives up with `if ...: raise`, the
    test naming the loop's counter (`attempt == attempts`), and an `await ...sleep(...)` after
    that `if` or after the try. A copy of the sleep goes in front of the `raise`, under the part
    of the test that names the counter: an error raised at once for another reason still is.
    """

    def visit_For(self, node: ast.For) -> ast.AST:
        self.generic_visit(node)
        if not isinstance(node.target, ast.Name):
            return node
        for position, statement in enumerate(node.body):
            if not isinstance(statement, ast.Try):
                continue
            for handler in statement.handlers:
                for index, guard in enumerate(handler.body):
                    last = _last_attempt(guard, node.target.id)
                    later = handler.body[index + 1 :] + node.body[position + 1 :]
                    sleep = next((s for s in later if isinstance(s, ast.Expr) and _is_sleep(s.value)), None)
                    if last is None or sleep is None:
                        continue
                    wait = copy.deepcopy(sleep)
                    guard.body[-1:-1] = [wait] if last is guard.test else [ast.If(last, [wait], [])]
                    self.changes += 1
        return node


def _last_attempt(guard: ast.stmt, counter: str) -> ast.expr | None:
    """In `if <test>: ... raise`, the comparison that names `counter`: the test, or one of its `or`s."""
    if not (isinstance(guard, ast.If) and isinstance(guard.body[-1], ast.Raise)):
        return None
    tests = (
        guard.test.values
        if isinstance(guard.test, ast.BoolOp) and isinstance(guard.test.op, ast.Or)
        else [guard.test]
    )
    naming = [t for t in tests if isinstance(t, ast.Compare) and counter in _names(t)]
    return naming[0] if len(naming) == 1 else None


_CLOCKS = {"time", "monotonic", "perf_counter", "time_ns", "monotonic_ns", "perf_counter_ns"}


def _clock_reading(node: ast.AST) -> bool:
    """loop.time(), time.monotonic(), time.perf_counter(): a clock read with no arguments."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in _CLOCKS
        and not node.args
        and not node.keywords
    )


class _StartBeforeWait(_Rewrite):
    """A start log made WRONG: a call that had to wait is logged as starting when it first asked.

    Sites: a `while` loop that reads a clock (`now = loop.time()`), sleeps, and logs that reading
    with `.append(now)` or `.appendleft(now)`. The clock is read once before the loop and that
    reading is logged: the time taken before the wait, so a rate limiter's window forgets the
    call too early.
    """

    def visit_While(self, node: ast.While) -> ast.AST | list[ast.stmt]:
        self.generic_visit(node)
        inside = list(_walk_here(node.body))
        if not any(_is_sleep(n) for n in inside):
            return node
        stored = {n.id for n in inside if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        readings = {
            n.targets[0].id: n.value
            for n in inside
            if isinstance(n, ast.Assign)
            and len(n.targets) == 1
            and isinstance(n.targets[0], ast.Name)
            and _clock_reading(n.value)
            and not _names(n.value) & stored  # it can be read before the loop
        }
        before: dict[str, str] = {}  # a reading's name -> the name of its copy before the loop
        for log in inside:
            if (
                isinstance(log, ast.Call)
                and isinstance(log.func, ast.Attribute)
                and log.func.attr in ("append", "appendleft")
                and len(log.args) == 1
                and isinstance(log.args[0], ast.Name)
                and log.args[0].id in readings
            ):
                name = log.args[0].id
                if name not in before:
                    before[name] = self.fresh(f"_{name}_before_wait")
                log.args[0] = ast.Name(before[name], ast.Load())
                self.changes += 1
        if not before:
            return node
        first = [
            ast.Assign([ast.Name(copied, ast.Store())], copy.deepcopy(readings[name]))
            for name, copied in before.items()
        ]
        return [*first, node]


class _AwaitedGather(_Rewrite):
    """`await asyncio.gather(...)` without keywords (so without return_exceptions) -> `await helper(...)`."""

    helper = ""

    def visit_Await(self, node: ast.Await) -> ast.AST:
        self.generic_visit(node)
        call = node.value
        if self.is_(call, "asyncio", "gather") and isinstance(call, ast.Call) and not call.keywords:
            self.call_helper(call, self.helper)
        return node


class _GatherAsTaskGroup(_AwaitedGather):
    helper = "_gather_taskgroup"


class _GatherAsCreateTask(_AwaitedGather):
    helper = "_gather_create_task"


_WRONG: dict[str, type[_Rewrite]] = {
    "sequential-gather": _SequentialGather,
    "sequential-taskgroup": _SequentialTaskGroup,
    "eager-create-task": _SequentialTask,
    "blocking-sleep": _BlockingSleep,
    "unbounded-semaphore": _Unbounded,
    "no-lock": _NoLock,
    "no-timeout": _NoTimeout,
    "no-shield": _NoShield,
    "as-completed-in-order": _InGivenOrder,
    "timeout-on-headers-only": _TimeoutOnHeadersOnly,
    "cleanup-outside-finally": _CleanupOutsideFinally,
    "polling-wait-30ms": _PollingEvery30ms,
    "polling-wait-70ms": _PollingEvery70ms,
    "sleep-after-last-attempt": _SleepAfterLastAttempt,
    "start-recorded-before-wait": _StartBeforeWait,
}
_EQUIVALENT: dict[str, type[_Rewrite]] = {
    "gather-as-taskgroup": _GatherAsTaskGroup,
    "gather-as-create-task": _GatherAsCreateTask,
}
KINDS = (*_WRONG, *_EQUIVALENT)


# --- deriving -----------------------------------------------------------------------------


def _bound_names(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
    return names


def _top_level_names(module: ast.Module) -> set[str]:
    """The names a prelude defines: its functions, classes, imports and assignments."""
    names = set()
    for node in module.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def _prelude_position(body: list[ast.stmt]) -> int:
    """After the module docstring and any `from __future__` import."""
    first = body[0] if body else None
    docstring = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
    position = 1 if docstring and isinstance(first.value.value, str) else 0
    while (
        position < len(body)
        and isinstance(body[position], ast.ImportFrom)
        and body[position].module == "__future__"
    ):
        position += 1
    return position


def _derive(
    stem: str,
    source: str,
    transforms: dict[str, type[_Rewrite]],
    wrong: bool,
    dropped: list[tuple[str, str, str]] | None,
) -> list[Derived]:
    try:
        original = ast.parse(source)
    except SyntaxError:
        return []
    taken = _bound_names(original)
    derived = []
    for kind, rewrite_class in transforms.items():
        tree = ast.parse(source)
        rewrite = rewrite_class(_Imports(tree), taken)
        tree = rewrite.visit(tree)
        if rewrite.changes < 1:
            continue
        prelude = ast.parse(_PRELUDES.get(kind, ""))  # some rewrites only move statements
        if _top_level_names(prelude) & taken:
            continue  # the solution already uses a helper's name: skip rather than shadow it
        position = _prelude_position(tree.body)
        tree.body[position:position] = prelude.body
        text = ast.unparse(ast.fix_missing_locations(tree)) + "\n"
        try:
            compile(text, f"<{kind} of {stem}>", "exec")
        except (SyntaxError, ValueError) as error:
            if dropped is not None:
                dropped.append((stem, kind, f"{type(error).__name__}: {error}"))
            continue
        derived.append(Derived(stem, kind, wrong, text, rewrite.changes))
    return derived


def derive_wrong(stem: str, source: str, dropped: list[tuple[str, str, str]] | None = None) -> list[Derived]:
    """The wrong versions of one solution: one per kind whose pattern occurs in it.

    A derived module that does not compile is left out, and named in `dropped` when given.
    """
    return _derive(stem, source, _WRONG, True, dropped)


def derive_equivalent(
    stem: str, source: str, dropped: list[tuple[str, str, str]] | None = None
) -> list[Derived]:
    """The equivalent rewrites of one solution: one per kind whose pattern occurs in it."""
    return _derive(stem, source, _EQUIVALENT, False, dropped)


def derive_all(
    exercises: Iterable[Exercise],
    dropped: list[tuple[str, str, str]] | None = None,
    kinds: Iterable[str] | None = None,
) -> list[Derived]:
    """Every derived variant of solutions/<stem>.py, for every exercise that has a solution
    (only those of `kinds`, when given: some of KINDS)."""
    wanted = set(KINDS if kinds is None else kinds)
    derived = []
    for exercise in exercises:
        if not exercise.solution.is_file():
            continue
        source = exercise.solution.read_text(encoding="utf-8")
        derived += derive_wrong(exercise.stem, source, dropped)
        derived += derive_equivalent(exercise.stem, source, dropped)
    return [variant for variant in derived if variant.kind in wanted]


# --- grading ------------------------------------------------------------------------------


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def verdict(variant: Derived, results: Sequence[TestResult]) -> tuple[bool, str]:
    """Did the tests judge this variant right? (ok, detail)

    A wrong one is right when at least one test failed (detail: the catching test and the
    first line of its message); an equivalent one when every test passed (detail: failures).
    """
    if not results:
        return False, NOT_GRADED
    failed = [r for r in results if r.outcome != "passed"]
    if variant.wrong:
        if not failed:
            return False, FALSE_PASS
        return True, f"caught by {failed[0].test}: {_first_line(failed[0].message)}"
    if failed:
        detail = "; ".join(f"{r.test}: {_first_line(r.message)}" for r in failed)
        return False, f"this equivalent version failed: {detail}"
    return True, ""


def rounds(derived: Sequence[Derived]) -> list[list[int]]:
    """Indexes of `derived`, grouped so that a round holds at most one variant per stem."""
    grouped: list[list[int]] = []
    stems: list[set[str]] = []
    for index, variant in enumerate(derived):
        for members, taken in zip(grouped, stems, strict=True):
            if variant.stem not in taken:
                members.append(index)
                taken.add(variant.stem)
                break
        else:
            grouped.append([index])
            stems.append({variant.stem})
    return grouped


def _run_round(variants: Sequence[Derived], tests: dict[str, Path]) -> Run:
    with tempfile.TemporaryDirectory(prefix="kata-derived-") as folder:
        for variant in variants:
            (Path(folder) / f"{variant.stem}.py").write_text(variant.source, encoding="utf-8")
        run = run_tests([tests[v.stem] for v in variants], Path(folder), wall_limit=WALL_LIMIT)
    run.label = "derived " + " ".join(f"{v.stem}/{v.kind}" for v in variants)
    return run


def grade_derived(
    derived: list[Derived],
    exercises: Iterable[Exercise],
    jobs: int,
) -> list[tuple[Derived, bool, str]]:
    """Run each variant's exercise tests against it: (variant, verdict_ok, detail), in order.

    As the self-check grades hand-written variants: each round copies at most one variant per
    exercise into a temporary folder as <stem>.py and runs those exercises' tests in one child
    run; `jobs` rounds run at once.
    """
    tests = {e.stem: e.tests for e in exercises if e.tests.is_file()}
    graded: list[tuple[Derived, bool, str] | None] = [None] * len(derived)
    for index, variant in enumerate(derived):
        if variant.stem not in tests:
            graded[index] = (variant, False, f"{NOT_GRADED}: no tests for {variant.stem}")
    todo = [[i for i in round_ if graded[i] is None] for round_ in rounds(derived)]
    todo = [round_ for round_ in todo if round_]
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        runs = pool.map(lambda round_: _run_round([derived[i] for i in round_], tests), todo)
        for round_, run in zip(todo, runs, strict=True):
            by_stem = run.by_stem()
            for index in round_:
                variant = derived[index]
                ok, detail = verdict(variant, by_stem.get(variant.stem, []))
                if detail == NOT_GRADED and run.output.strip():
                    detail += f" (exit code {run.returncode}): {run.output.strip().splitlines()[-1]}"
                graded[index] = (variant, ok, detail)
    return [g for g in graded if g is not None]


__all__ = [
    "KINDS",
    "Derived",
    "derive_all",
    "derive_equivalent",
    "derive_wrong",
    "grade_derived",
    "rounds",
    "verdict",
]
