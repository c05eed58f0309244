"""Variants derived by program from the reference solutions: proof the tests judge behaviour.

Hand-written variants (tests/variants/) show what their authors thought of. These are
made by rewriting each solution in solutions/ with `ast`, the same way for every exercise:

- WRONG versions (the tests must fail at least one test): the same code with one classic
  mistake put in everywhere its pattern occurs: gather made sequential, a TaskGroup or
  create_task whose tasks run one at a time, a blocking sleep (every use of asyncio.sleep,
  a default `sleep=asyncio.sleep` too), a semaphore or connector limit taken away, a lock
  that lets everyone in, timeouts that never fire, a shield taken away, as_completed in
  the order given;
- EQUIVALENT rewrites (the tests must pass every test): `await asyncio.gather(...)` done
  with a TaskGroup, or with create_task for each and an await for each, in order.

Each rewrite calls a small helper (the prelude) put right after the module docstring.
A kind is derived for a solution only where its pattern occurs; one variant per kind and
solution rewrites every site of that pattern, and `changes` counts them.

`taskgroup-as-gather` is not derived: a TaskGroup cancels its other tasks when one fails,
raises an ExceptionGroup, and accepts new tasks until it ends (the capstone adds tasks
from inside its tasks); gather does none of these, so no local rewrite is safe.
"""

from __future__ import annotations

import ast
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

    def __init__(self, imports: _Imports) -> None:
        self.imports = imports
        self.changes = 0

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
}
_EQUIVALENT: dict[str, type[_Rewrite]] = {
    "gather-as-taskgroup": _GatherAsTaskGroup,
    "gather-as-create-task": _GatherAsCreateTask,
}


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
        rewrite = rewrite_class(_Imports(tree))
        tree = rewrite.visit(tree)
        if rewrite.changes < 1:
            continue
        prelude = ast.parse(_PRELUDES[kind])
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
    exercises: Iterable[Exercise], dropped: list[tuple[str, str, str]] | None = None
) -> list[Derived]:
    """Every derived variant of solutions/<stem>.py, for every exercise that has a solution."""
    derived = []
    for exercise in exercises:
        if not exercise.solution.is_file():
            continue
        source = exercise.solution.read_text(encoding="utf-8")
        derived += derive_wrong(exercise.stem, source, dropped)
        derived += derive_equivalent(exercise.stem, source, dropped)
    return derived


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
    "Derived",
    "derive_all",
    "derive_equivalent",
    "derive_wrong",
    "grade_derived",
    "rounds",
    "verdict",
]
