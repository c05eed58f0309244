"""The kata's pytest plugin: choose the code under test, and guard every test.

- `--target DIR` picks the directory whose `NN_topic.py` files are tested
  (default: exercises/). The `ex` fixture loads the file that matches the test
  module's own stem, a fresh copy for every test.
- `--kata-seed N` fixes the random inputs (`rng` fixture); the seed is printed.
- `sessions_opened` counts the aiohttp sessions a test's code creates.
- Every test runs guarded: a heartbeat catches a blocked loop; leaked tasks, lost
  task errors, unclosed sessions, never-awaited coroutines and a patched clock
  fail the test with a plain-words message; `NotImplementedError` from the target
  reads "not written yet".
- `--kata-report FILE` writes one JSON line per test for the grader.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import inspect
import random
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

from kata import checked_names, forking, timeouts, until_caught, where
from kata.catalog import REPO_ROOT, exercise_stem
from kata.loader import ExerciseLoadError, load_exercise, module_name, unload_exercise
from kata.report import (
    GAVE_UP,
    HANG_GRACE,
    STOPPED_AT,
    TIME_ONLY,
    ReportWriter,
    is_pytest_timeout,
    learner_message,
)

# Bound before any learner module is imported: timing checks trust these.
from kata.testing import (  # noqa: F401  (bound early, as above)
    cancelling,
    clock,
    elsewhere,
    fakes,
    hang_guard,
    letting_run,
    margins,
    order,
    stall_cause,
    thread_leftovers,
    threads,
)
from kata.testing.leftovers import Leftovers
from kata.testing.loopguard import FROZEN_PREFIX as FROZEN
from kata.testing.loopguard import (
    STALL_LIMIT,
    LoopGuard,
    blocked_asleep,
    set_aside_what_lives_on,
    warning_watch,
    without_echoes,
)
from kata.testing.loops import close_left_open, noting_loops
from kata.testing.own_loops import OwnLoopsWatch
from kata.testing.sessions import counting_sessions
from kata.testing.timers import drop_learners_timers
from kata.testing.waiting import FrozenLoopBreaker, WakeWatch

TARGET_KEY = pytest.StashKey[Path]()
JUDGE_KEY = pytest.StashKey[object]()  # a kata.judge.session.JudgeSession in judge mode
SEED_KEY = pytest.StashKey[int]()
LOOP_KEY = pytest.StashKey[asyncio.AbstractEventLoop]()
GUARD_KEY = pytest.StashKey[LoopGuard]()  # the test's loop guard, for what it saw before a timeout
# The findings of the test's guards (its own and, in judge mode, the sandbox's) that a busy machine
# can cause: a frozen loop, a thread of the code's still at work. Only a failure they lead is one
# on time: the learner's own error can say the same words (a red team's did, and had a second run).
ON_TIME_FINDINGS_KEY = pytest.StashKey[list[str]]()
LOAD_SENSITIVE = "load_sensitive"  # a harness test's marker (see pytest_configure)

NOT_WRITTEN = "{name} in {path} is not written yet (it still raises NotImplementedError)"
NOT_THERE = (
    "{path} has no `{name}`, which this test calls: keep the stub's names (a function renamed or "
    "deleted cannot be tested). `python grade.py reset {stem}` puts the stub back and keeps your version."
)
# What Python says of a name the tests ask the learner's module for (kata.loader.module_name),
# in one process and from the sandbox alike.
MISSING_NAME = re.compile(rf"^module '{module_name('')}(?P<stem>\w+)' has no attribute '(?P<name>\w+)'$")
MISSING_AWAIT = (
    "a value here is a coroutine object, not a result: an `await` is missing before the call "
    "that produced it."
)
TAMPERED = (
    "{names} was replaced while your code ran. The kata times your code with its own "
    "clock; code must not patch time or asyncio."
)
RAISED_HERE = "raised here, in your code:\n{places}"
# A verdict of the tests' that names an error the learner's code raised (`raise AssertionError(...)
# from error`): where that error was raised, rather than where the functions are defined.
CAUSE_RAISED_HERE = "{error} was raised here, in your code:\n{places}"
CALLED_HERE = "what this test calls, in your code:\n{places}"
STOPPED_RUNNING = (
    "When it was stopped, your code was running here, and had not let the event loop run:\n{places}"
)
STOPPED_WAITING = "When it was stopped, your code was waiting here:\n{places}"
STOPPED_LOADING = (
    "When it was stopped, your file was still being imported, here (the tests import it before they "
    "start: code at the top level should only define things):\n{places}"
)
# pytest's own outcomes (pytest.fail, skip, xfail) come from the tests, never from learner code.
OUTCOMES = (pytest.fail.Exception, pytest.skip.Exception, pytest.xfail.Exception)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("kata", "async-kata")
    group.addoption(
        "--target",
        default="exercises",
        help="directory holding the NN_topic.py files to test (default: exercises, from where pytest "
        "runs or else from the kata's root)",
    )
    group.addoption("--kata-seed", type=int, default=None, help="seed for the random test inputs")
    group.addoption("--kata-report", default=None, help="write one JSON line per test to this file")
    group.addoption(
        "--kata-judge",
        action="store_true",
        help="judge mode: run the learner's code in a separate process, and judge it from here",
    )
    group.addoption(
        until_caught.OPTION,
        default="",
        metavar="STEM[,STEM...]",
        help="for these exercises, skip the rest of the tests once one has failed, not on time "
        "(the self-check: enough to know a wrong variant is caught)",
    )
    group.addoption(
        "--kata-file-names",
        action="store_true",
        help="name the learner's files alone in messages (02_gather.py), not from the target's "
        "folder (batch grading: the folder a student is graded from means nothing to them)",
    )
    group.addoption(
        forking.OPTION,
        default=None,
        metavar="PLAN.json",
        help="collect once, then run each group of tests the plan names in a forked child, with "
        "its own report and output (Linux; grade.py NN: kata.side_by_side)",
    )
    group.addoption(
        "--kata-stop-on-hang",
        action="store_true",
        help="end the run at the first test that times out, and end the process when a test "
        "outlives its timeout by 2 s (with --kata-report)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "task(number): the exercise task this test grades")
    config.addinivalue_line(
        "markers",
        f"{LOAD_SENSITIVE}: a harness test whose verdict holds a bound on time meant for a machine "
        "running one grading (or that grades whole exercises, whose tests have such bounds): a "
        "failure counts as one on time, so the self-check runs it again, alone at the end",
    )
    config.addinivalue_line(
        "markers",
        "stall_limit(seconds): the loop guard's limit for a test whose own work stalls the loop longer "
        "than usual on a busy machine (a process pool filling every core, a crawl of a thousand pages); "
        "blocking is then checked by the test itself (kata.testing.ticker) or by the exercise's other tests",
    )
    target = Path(config.getoption("target"))
    if not target.is_absolute():
        # From where pytest was started, else from the kata's root (an IDE may start it in tests/).
        here = config.invocation_params.dir / target
        target = here if here.is_dir() else REPO_ROOT / target
    if not target.is_dir():
        raise pytest.UsageError(f"--target {config.getoption('target')}: no such directory")
    config.stash[TARGET_KEY] = target.resolve()
    where.FILE_NAMES_ONLY = config.getoption("kata_file_names")
    margins.target = target.resolve().name
    hang_guard.learner_folder = target.resolve()
    seed = config.getoption("kata_seed")
    config.stash[SEED_KEY] = seed if seed is not None else random.SystemRandom().randrange(10**6)
    timeouts.install(config)
    if config.getoption("kata_judge"):
        from kata.judge.session import JudgeSession

        config.stash[JUDGE_KEY] = elsewhere.process = JudgeSession(target.resolve())
    stems = until_caught.stems_option(config.getoption("kata_until_caught"))
    if stems:
        config.pluginmanager.register(until_caught.UntilCaught(stems), "kata-until-caught")
    report_path = config.getoption("kata_report")
    if report_path:
        config.pluginmanager.register(
            ReportWriter(Path(report_path), hang_backstop=_hang_backstop(config)), "kata-report"
        )
    forking.register(config)


def pytest_unconfigure(config: pytest.Config) -> None:
    judge = config.stash.get(JUDGE_KEY, None)
    if judge is not None:
        judge.close()


def pytest_collection_finish(session: pytest.Session) -> None:
    """Everything loaded so far (pytest, aiohttp, the tests) lives as long as the run: freeze it,
    so the guard's collections after each test scan only what that test made (a full collection
    with all of it takes ~50 ms, and each test makes several)."""
    _fix_aioresponses()
    gc.collect()
    gc.freeze()


def _fix_aioresponses() -> None:
    """Patch aioresponses once some test has imported it (kata.shims.aioresponses_compat); the
    others never pay for importing aiohttp."""
    if "aioresponses" in sys.modules:
        from kata.shims import aioresponses_compat

        aioresponses_compat.install()
        aioresponses_compat.install_quick_start()


def _hang_backstop(config: pytest.Config) -> float | None:
    if not config.getoption("kata_stop_on_hang"):
        return None
    timeout = config.getoption("timeout", None) or config.getini("timeout") or 10
    return float(timeout) + HANG_GRACE


def pytest_report_header(config: pytest.Config) -> str:
    return f"kata: target {config.stash[TARGET_KEY]}, seed {config.stash[SEED_KEY]}"


@pytest.fixture
def ex(request: pytest.FixtureRequest) -> ModuleType:
    """The learner's module for this test file's exercise, freshly loaded from --target
    (in judge mode: loaded in the sandbox, and this is its proxy)."""
    judge = request.config.stash.get(JUDGE_KEY, None)
    if judge is not None:
        try:
            return judge.module(exercise_stem(request.path), request.module)
        except Exception as error:
            pytest.fail(judge.gone(error) or str(error), pytrace=False)
        except BaseException as error:
            if not getattr(type(error), "_kata_stand_in", False):
                raise  # this process's own (a real Ctrl-C)
            # Sent by the sandbox (a SystemExit stands in under BaseException): raised from a
            # fixture it would leave pytest unable to set up any later test.
            pytest.fail(f"loading your file raised {type(error).__name__}: {error}", pytrace=False)
    try:
        return load_exercise(request.config.stash[TARGET_KEY], exercise_stem(request.path))
    except ExerciseLoadError as error:
        pytest.fail(str(error), pytrace=False)


class _SessionsOpened:
    """`[0]`: the sessions made here (by the test) and in the sandbox (by the learner's code)."""

    def __init__(self, here: list[int], judge) -> None:
        self.here, self.judge = here, judge

    def __getitem__(self, index: int) -> int:
        there = self.judge.sessions_opened()
        return self.here[index] + there


@pytest.fixture
def sessions_opened(request: pytest.FixtureRequest):
    """`sessions_opened[0]`: how many aiohttp.ClientSession objects were created during the test
    (kata.testing.sessions). In judge mode the learner's sessions are counted in the sandbox: a
    count it reports can fail a test, and the README says what that means.
    """
    with counting_sessions() as opened:
        judge = request.config.stash.get(JUDGE_KEY, None)
        yield opened if judge is None else _SessionsOpened(opened, judge)


@pytest.fixture
def event_loops_made(request: pytest.FixtureRequest):
    """Every event loop created during the test, in order (in judge mode: the judge's mirror of
    each loop the learner's code ran, kata.remote.mirrors); the test starts with no current loop,
    and the loops left open that are not running are closed when it ends (in judge mode, the
    sandbox does the same with the learner's own loops).

    For tests that watch the learner's loops: without it a loop left open would also be reported
    "never closed" by whichever test happened to free it, maybe a later one, and a loop set as
    current would carry one test's state into the next.
    """
    made: list[asyncio.AbstractEventLoop] = []
    judge = request.config.stash.get(JUDGE_KEY, None)
    if judge is not None:
        judge.keep_loops()
    asyncio.set_event_loop(None)
    with noting_loops(made.append):
        yield made
    asyncio.set_event_loop(None)
    close_left_open(made)
    if judge is not None:
        judge.close_kept_loops()


@pytest.fixture
def own_loops_watch(request: pytest.FixtureRequest):
    """`with own_loops_watch(ex) as wakes:` around a call of plain code watches every event loop
    that code makes meanwhile (kata.testing.own_loops): `wakes.limits`, `wakes.busiest(...)` as
    a wake watch's. In judge mode the sandbox watches them: what it reports can fail a test.
    """
    judge = request.config.stash.get(JUDGE_KEY, None)
    if judge is not None:
        return lambda ex: judge.own_loops_watch()
    return lambda ex: OwnLoopsWatch(getattr(ex, "__file__", None))


@pytest.fixture
def leftovers(request: pytest.FixtureRequest) -> Leftovers:
    """The learner's tasks still running when its function returned (kata.testing.leftovers). In
    judge mode they live in the sandbox, which reports them: that can fail a test, never pass it.
    """
    return Leftovers(request.config.stash.get(JUDGE_KEY, None))


@pytest.fixture
def wake_watch(request: pytest.FixtureRequest):
    """`async with wake_watch() as wakes:` watches how the tasks started meanwhile wake up
    (kata.testing.waiting.WakeWatch); `wake_watch(ex)` also notes the time limits the learner's
    module sets (`wakes.limits`, kata.testing.limits). In judge mode the learner's tasks live in
    the sandbox, which watches its own loop: what it reports can fail a test, and the README says
    what that means.
    """
    judge = request.config.stash.get(JUDGE_KEY, None)
    if judge is not None:
        return lambda ex=None: judge.wake_watch(limits=ex is not None)
    return lambda ex=None: WakeWatch(getattr(ex, "__file__", None))


@pytest.fixture
def hold() -> float:
    """How long the calls a test of stopping sees cancelled take to stop: `HeldStop(hold, ...)`
    (kata.testing.cancelling.HOLD)."""
    from kata.testing.cancelling import HOLD  # the tests of stopping load it; no other test needs it

    return HOLD


@pytest.fixture
def loop_breaker(request: pytest.FixtureRequest):
    """`async with loop_breaker(ex, explain):` raises `explain.format(function=, seconds=)` inside
    the learner's code if it keeps the event loop frozen (kata.testing.waiting.FrozenLoopBreaker).
    In judge mode the sandbox's own loop is the one to break: the sandbox does it (it can only
    fail the test), and `explain` may use only `{function}` and `{seconds:.2f}`.
    """
    judge = request.config.stash.get(JUDGE_KEY, None)
    if judge is not None:
        return lambda ex, explain: judge.loop_breaker(explain)

    def local(ex, explain: str) -> FrozenLoopBreaker:
        return FrozenLoopBreaker(
            lambda function, seconds: explain.format(function=function, seconds=seconds),
            getattr(ex, "__file__", None),
        )

    return local


@pytest.fixture
def seed(request: pytest.FixtureRequest) -> int:
    """The run's seed (print it with -v; pass it back with --kata-seed to replay)."""
    return request.config.stash[SEED_KEY]


@pytest.fixture
def rng(request: pytest.FixtureRequest, seed: int) -> random.Random:
    """Random inputs that differ per run and per test, replayable with --kata-seed."""
    return random.Random(f"{seed}:{request.node.nodeid}")


def _not_written(error: NotImplementedError, target: Path) -> str | None:
    """The 'not written yet' sentence when the error comes from a file under target."""
    sent = error.__dict__.get(where.REMOTE_PLACES)
    if sent:  # raised in the sandbox (judge mode)
        name, _line, function = sent[-1]
        path = target / Path(name).name
        return NOT_WRITTEN.format(name=f"`{function}`", path=where.shown_path(path, target))
    tb, found = error.__traceback__, None
    while tb is not None:
        path = Path(tb.tb_frame.f_code.co_filename)
        if path.parent == target:
            found = (tb.tb_frame.f_code.co_name, path)
        tb = tb.tb_next
    if found is None:
        return None
    name, path = found
    return NOT_WRITTEN.format(name=f"`{name}`", path=where.shown_path(path, target))


def _point_at_learner_code(error: BaseException, target: Path, test) -> None:
    """An error raised by the learner's code gets a note with their lines it came through; any
    other (the tests' own verdict) a note with where the functions the test calls are defined.

    An AssertionError is the tests' own verdict, unless it was raised in the learner's file."""
    if isinstance(error, OUTCOMES):
        return
    places = where.raised_at(error, target)
    if places and isinstance(error, AssertionError) and error.__traceback__ is not None:
        innermost = error.__traceback__
        while innermost.tb_next is not None:
            innermost = innermost.tb_next
        if Path(innermost.tb_frame.f_code.co_filename).resolve().parent != target:
            places = []
    if places:
        error.add_note(RAISED_HERE.format(places=where.listing(places, target, innermost=True)))
        return
    cause = error.__cause__ if isinstance(error, AssertionError) else None
    places = where.raised_at(cause, target) if cause is not None and not isinstance(cause, OUTCOMES) else []
    if places:
        said = repr(cause) if len(repr(cause)) <= 200 else repr(cause)[:197] + "..."
        listing = where.listing(places, target, innermost=True)
        error.add_note(CAUSE_RAISED_HERE.format(error=said, places=listing))
        return
    called = _called_here(target, test, str(error))
    if called:
        error.add_note(called)


def _learner_file(target: Path, test) -> Path:
    """The learner's file of the exercise `test` checks (in judge mode too: the judge reads it)."""
    return target / f"{exercise_stem(Path(test.__code__.co_filename))}.py"


def _called_here(target: Path, test, said: str = "") -> str:
    """Where the learner's functions this test calls are defined, or '' (none found, or what is
    `said` already names a line of their file)."""
    if test is None:
        return ""
    path = _learner_file(target, test)
    if f"{path.name}:" in said:
        return ""
    places = where.defined_at(path, checked_names.names_checked(test))
    return CALLED_HERE.format(places=where.listing(places, target)) if places else ""


def _judge(error: BaseException | None, problems: list[str], target: Path, judge=None, test=None) -> None:
    """Raise the test's verdict: the learner's own error first, guard findings with it."""
    gone = judge.gone(error) if judge is not None and error is not None else None
    if gone:
        pytest.fail("\n".join([gone, *problems]), pytrace=False)
    tampered = clock.find_tampering()
    if tampered:
        problems = [TAMPERED.format(names=", ".join(tampered)), *problems]
    problems = without_echoes(problems)  # one mistake may be reported by two routes
    if isinstance(error, NotImplementedError):
        message = _not_written(error, target)
        if message:
            pytest.fail(message, pytrace=False)
    missing = MISSING_NAME.match(str(error)) if isinstance(error, AttributeError) else None
    if missing:
        path = where.shown_path(target / f"{missing['stem']}.py", target)
        message = NOT_THERE.format(path=path, name=missing["name"], stem=missing["stem"][:2])
        pytest.fail(message, pytrace=False)
    if isinstance(error, TypeError | AttributeError) and "'coroutine' object" in str(error):
        problems.append(MISSING_AWAIT)
    blocked = [p for p in problems if p.startswith(FROZEN)]
    if isinstance(error, AssertionError) and blocked and margins.broken:
        # A frozen loop skews every timing this test measured: name the cause first. Only a timing
        # check (kata.testing.margins) can have failed because of it; a wrong result leads its own
        # message, the freeze noted after it, so that it is never taken for a failure on time (a
        # second run, in grade.py and in batch grading, must not rescue a wrong result).
        others = [p for p in problems if p not in blocked]
        lead = AssertionError(f"{blocked[0]}\nBecause of it, this check failed too: {error}")
        for problem in others:
            lead.add_note(f"Also: {problem}")
        called = _called_here(target, test, "\n".join([str(lead), *others]))
        if called:
            lead.add_note(called)
        raise lead from error
    if error is not None:
        _point_at_learner_code(error, target, test)
        for problem in problems:
            error.add_note(f"Also: {problem}")
        # A timing bound broken on a busy machine may be the machine's doing: said here, once, for
        # every such check (a learner trial's references were told "returned after 0.33 s" in
        # judge mode at a load of 6-8, with no word of the machine).
        timing = isinstance(error, AssertionError) and bool(margins.broken)
        if timing and BUSY_WORDS not in str(error) and stall_cause.machine_busy():
            error.add_note(BUSY_TIMING)
        raise error
    if problems:
        said = "\n".join(problems)
        pytest.fail("\n".join(filter(None, [said, _called_here(target, test, said)])), pytrace=False)


# Said under a timing failure on a busy machine (kata.testing.stall_cause.machine_busy).
BUSY_WORDS = "This machine was busy"
BUSY_TIMING = (
    f"{BUSY_WORDS} meanwhile (more programs wanted a core than it has): a time this test measured may "
    "be its doing, not your code's. `python grade.py` runs a test that failed on time again; if it "
    "fails the same way on a quiet machine, the code is the cause."
)


def _guard_async(test, target: Path, stall_limit: float, item: pytest.Item, judge=None):
    @functools.wraps(test)
    async def guarded(*args, **kwargs):
        learner_file = cancelling.LEARNER_FILE = _learner_file(target, test)
        # Kept for the report: after a timeout, the loop still holds the tasks that were waiting.
        item.stash[LOOP_KEY] = asyncio.get_running_loop()
        with warning_watch() as problems:
            # In judge mode the learner's code runs on the sandbox's loop, watched there.
            guard = LoopGuard(stall_limit, heartbeat=judge is None, learner_folder=target)
            item.stash[GUARD_KEY] = guard
            await guard.start()
            left = item.funcargs.get("leftovers") if isinstance(item, pytest.Function) else None
            if isinstance(left, Leftovers) and judge is None:
                left.made_by_the_code = guard.made_by_the_code
            failure = None
            try:
                if judge is not None:
                    await judge.begin(stall_limit)
                await test(*args, **kwargs)
            except BaseException as error:
                failure = error
            # Also after a failure: leftover tasks are cancelled and lost errors collected
            # here, as notes on this test, not as stray errors in a later teardown.
            try:
                if judge is not None:
                    problems.extend(await judge.finish())
                problems.extend(await guard.finish(failed=failure is not None))
            except BaseException as error:
                guard.cancel()
                if failure is None:
                    failure = error
            if judge is None:  # they end with the test, as the sandbox's do (kata.testing.timers)
                drop_learners_timers(asyncio.get_running_loop(), [str(learner_file)])
            _unload_learner_module(item)  # in the sandbox, the judge's finish did
        item.stash[ON_TIME_FINDINGS_KEY] = _on_time_findings(problems)
        _judge(failure, problems, target, judge, test)

    return guarded


def _guard_sync(test, target: Path, item: pytest.Item, judge=None):
    @functools.wraps(test)
    def guarded(*args, **kwargs):
        cancelling.LEARNER_FILE = _learner_file(target, test)
        failure = None
        # In one process the code's threads are watched here (a plain test starts no loop guard);
        # in judge mode the sandbox watches them, where the code runs.
        thread_watch = thread_leftovers.ThreadLeftovers(target) if judge is None else None
        with warning_watch() as problems:
            if thread_watch is not None:
                thread_watch.start()
            try:
                if judge is not None:
                    judge.begin_sync()
                test(*args, **kwargs)
            except BaseException as error:
                failure = error
            if judge is not None:
                try:
                    problems.extend(judge.finish_sync())
                except BaseException as error:
                    failure = failure or error
            if thread_watch is not None:
                problems.extend(thread_watch.finish_sync())
            _unload_learner_module(item)
        item.stash[ON_TIME_FINDINGS_KEY] = _on_time_findings(problems)
        _judge(failure, problems, target, judge, test)

    return guarded


def _unload_learner_module(item: pytest.Function) -> None:
    """The learner's module loaded for this test ends with it, inside the warning watch: what its
    globals kept (a session never closed) is reported here, as the sandbox host does at finish."""
    module = item.funcargs.get("ex")
    if isinstance(module, ModuleType):
        unload_exercise(module)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    """In judge mode the sandbox host is chosen (JudgeSession.prepare) and up before the test's
    fixtures and its time limit start (pytest-timeout's timer covers setup and teardown too): a
    host started again after a test that broke it, or the first of a run, took over 2 s under
    load, and a correct answer timed out for it."""
    judge = item.config.stash.get(JUDGE_KEY, None)
    if judge is not None and "ex" in getattr(item, "fixturenames", ()):
        judge.prepare(exercise_stem(item.path))
        judge.ready()
    return (yield)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Before the test's fixtures (the learner's module among them): what earlier tests left
    alive is set aside, so the guard's collections scan only this test's objects."""
    set_aside_what_lives_on()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    if not isinstance(item, pytest.Function):
        return (yield)
    original, target = item.obj, item.config.stash[TARGET_KEY]
    judge = item.config.stash.get(JUDGE_KEY, None) if "ex" in item.fixturenames else None
    _fix_aioresponses()  # a test that imports aioresponses only as it runs
    if inspect.iscoroutinefunction(original):
        marker = item.get_closest_marker("stall_limit")
        limit = float(marker.args[0]) if marker else STALL_LIMIT
        item.obj = _guard_async(original, target, limit, item, judge)
    else:
        item.obj = _guard_sync(original, target, item, judge)
    margins.clear()
    try:
        return (yield)
    finally:
        item.obj = original


def _where_it_stopped(item: pytest.Item, error: BaseException, running_words: str = STOPPED_RUNNING) -> str:
    """After a timeout: the learner's lines that were running (a frozen loop, or the file as it was
    imported: `running_words`) or waiting."""
    target = item.config.stash[TARGET_KEY]
    judge = item.config.stash.get(JUDGE_KEY, None)
    if judge is not None:
        # Asked from the sandbox (its own loop may be the one frozen), then the sandbox is replaced:
        # what the code left running must not reach the next test, nor hold this one's teardown.
        running = where.sent_places(judge.where(), target)
        waiting = [] if running else where.sent_places(judge.where(waiting=True), target)
        lost = judge.callback_errors()
        judge.stopped()
    else:
        running = where.raised_at(error, target)
        loop = item.stash.get(LOOP_KEY, None)
        alive = loop is not None and not loop.is_closed()
        waiting = where.waiting_at(loop, target) if not running and alive else []
        guard = item.stash.get(GUARD_KEY, None)
        lost = guard.callback_errors() if guard is not None else []
    if running:
        seen = running_words.format(places=where.listing(running, target, innermost=True))
    elif waiting:
        seen = STOPPED_WAITING.format(places=where.listing(waiting, target))
    else:
        seen = ""
    # An error lost in a callback is often why an await never completed: said after where it waited.
    return "\n".join(filter(None, [seen, *(f"Meanwhile, {said}" for said in lost)]))


def _on_time_findings(problems: list[str]) -> list[str]:
    return [problem for problem in problems if problem.startswith((FROZEN, thread_leftovers.LEFT_PREFIX))]


def _failed_only_on_time(call: pytest.CallInfo, timed_out: bool, findings: list[str]) -> bool:
    """A timeout, a frozen loop, a broken timing bound, or a thread of the code's still at work
    past the grace (and nothing before it): a busy machine can cause each of these. Not a loop
    frozen in a blocking call on a quiet machine (kata.testing.stall_cause): that is the code,
    and any timing it broke with it. A frozen loop or a thread at work counts only as one of the
    guards' `findings` (ON_TIME_FINDINGS_KEY) that leads the failure, never as words of the
    learner's own error."""
    if timed_out:
        return True
    error = call.excinfo.value if call.excinfo else None
    text = str(error) if error is not None else ""
    if blocked_asleep(text):
        return False
    if isinstance(error, AssertionError) and margins.broken:
        return True
    return any(text.startswith(finding) for finding in findings)


def _only_gave_up(call: pytest.CallInfo) -> bool:
    """The test gave up waiting for the code (its own hang guard), and nothing else was on time:
    like a timeout, worth a second run only on a busy machine."""
    error = call.excinfo.value if call.excinfo else None
    return isinstance(error, AssertionError) and margins.only_gave_up() and not str(error).startswith(FROZEN)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if report.failed and "rng" in getattr(item, "fixturenames", ()):
        seed = item.config.stash[SEED_KEY]
        report.sections.append(("kata", f"random inputs from --kata-seed {seed}"))
    # "setup" too: the learner's file is loaded there (the ex fixture), and can hang as it loads.
    if report.failed and call.when in ("setup", "call") and call.excinfo is not None:
        # pytest-timeout fails the test (pytest.fail); an error of the learner's own with its words is not it.
        timed_out = isinstance(call.excinfo.value, pytest.fail.Exception) and is_pytest_timeout(
            str(call.excinfo.value)
        )
        if not timed_out and "ex" in getattr(item, "fixturenames", ()):
            judge = item.config.stash.get(JUDGE_KEY, None)
            if judge is not None and judge.link.peer is not None and judge.link.peer.lost is not None:
                judge.stopped()  # it died during the test: the next test gets a fresh one
        if timed_out:
            running = STOPPED_LOADING if call.when == "setup" else STOPPED_RUNNING
            report.user_properties.append((STOPPED_AT, _where_it_stopped(item, call.excinfo.value, running)))
            if item.config.getoption("kata_report") is None:
                # Plain pytest (which every exercise names beside grade.py) printed pytest-timeout's
                # words and a traceback deep in the selector alone (a learner trial): the words
                # grade.py gives, where the code was included, come with it.
                report.sections.append(("your code", learner_message(report)))
        findings = item.stash.get(ON_TIME_FINDINGS_KEY, [])
        if _failed_only_on_time(call, timed_out, findings) or item.get_closest_marker(LOAD_SENSITIVE):
            report.user_properties.append((TIME_ONLY, True))
            if _only_gave_up(call):
                report.user_properties.append((GAVE_UP, True))
    if call.when == "call":
        # The loop was kept for the lines above only: an item lives as long as the run, and a
        # loop kept by every one of them made each collection after it slower (batch grading
        # runs every exercise in one process: 2 ms each by the last test, not 0.04 ms).
        for key in (LOOP_KEY, GUARD_KEY):
            with contextlib.suppress(KeyError):
                del item.stash[key]
    return report
