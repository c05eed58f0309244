"""A test's time limit stops the test, once, and never hangs the run (kata.timeouts).

The alarm (SIGALRM, or the timer thread's SIGINT where there is none) finds the main thread
anywhere. Raised in the event loop's bookkeeping or a plain callback, it drops a wake-up and
the loop's teardown waits forever; raised in a learner's worker task, it is kept there and raised
again in the teardown. A busy loop is in those places most of the time.
"""

import asyncio
import itertools
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from kata.catalog import REPO_ROOT
from kata.timeouts import safe_to_raise

NO_POSIX = Path(__file__).with_name("no_posix")

BUSY_TESTS = 10
BUSY_LOOP = f"""
import asyncio
import itertools
import time

import pytest


async def spin():
    while True:
        await asyncio.sleep(0)


async def hand_over():
    while True:
        await asyncio.to_thread(time.sleep, 0)


def hop(loop):
    loop.call_soon(hop, loop)


@pytest.mark.parametrize("n", range({BUSY_TESTS}))
async def test_busy_loop(n):
    loop = asyncio.get_running_loop()
    loop.call_soon(hop, loop)
    workers = [asyncio.create_task(spin()) for _ in range(10)]
    workers += [asyncio.create_task(hand_over()) for _ in range(4)]
    await asyncio.gather(*workers)
"""


@pytest.mark.timeout(180)
@pytest.mark.parametrize("timer", ["SIGALRM", "SIGINT from a timer thread (Windows)"])
def test_a_timeout_in_a_busy_loop_fails_its_test_once_and_the_run_goes_on(tmp_path, timer):
    (tmp_path / "conftest.py").write_text(
        "from kata import timeouts\n\n\ndef pytest_configure(config):\n    timeouts.install(config)\n"
    )
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
        "timeout = 0.2\ntimeout_method = signal\n"
    )
    (tmp_path / "test_busy.py").write_text(BUSY_LOOP)
    paths = [str(REPO_ROOT)] if timer == "SIGALRM" else [str(NO_POSIX), str(REPO_ROOT)]
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_busy.py"],
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(paths)},
            capture_output=True,
            text=True,
            timeout=90,
        )
    except subprocess.TimeoutExpired as hung:
        out = (hung.stdout or b"").decode(errors="replace") if isinstance(hung.stdout, bytes) else hung.stdout
        raise AssertionError(
            f"{BUSY_TESTS} tests of 0.2 s each were still running after 90 s: a timeout left the "
            f"event loop unable to finish.\n{out}"
        ) from None
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    assert summary.startswith(f"{BUSY_TESTS} failed in"), (
        f"each test should fail once, on its time limit, and nothing else; the run said "
        f"{summary!r}:\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}"
    )
    assert done.stdout.count("Timeout (>0.2s) from pytest-timeout") >= BUSY_TESTS


class MainThreadLooker:
    """Another thread that, 0.1 s after it starts, judges the main thread's innermost frame:
    where a signal would find it."""

    def __init__(self) -> None:
        self.verdicts: list[bool] = []
        self.thread = threading.Thread(target=self._look, args=(threading.main_thread().ident,))
        self.thread.start()

    def _look(self, main: int) -> None:
        time.sleep(0.1)
        self.verdicts.append(safe_to_raise(sys._current_frames()[main]))

    def verdict(self) -> bool:
        self.thread.join()
        return self.verdicts[0]


def test_plain_code_outside_any_loop_is_a_place_to_stop():
    assert safe_to_raise(sys._getframe())


def test_the_main_thread_waiting_on_a_lock_is_a_place_to_stop():
    looker = MainThreadLooker()
    threading.Event().wait(0.3)
    assert looker.verdict(), "a wait for a lock or event undoes nothing half-made when interrupted"


async def test_the_loop_asleep_in_select_is_a_place_to_stop():
    looker = MainThreadLooker()
    await asyncio.sleep(0.3)
    assert looker.verdict(), "the loop slept in select(): stopping there loses nothing"


async def test_the_tests_own_task_is_a_place_to_stop():
    assert safe_to_raise(sys._getframe())


async def test_another_tasks_step_is_not_a_place_to_stop():
    async def worker():
        return safe_to_raise(sys._getframe())

    assert not await asyncio.create_task(worker()), (
        "an exception raised in a worker task stays in that task and comes back in the teardown"
    )


async def test_a_plain_callback_is_not_a_place_to_stop():
    done = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().call_soon(lambda: done.set_result(safe_to_raise(sys._getframe())))
    assert not await done, "a callback cut short drops what it was handing on (a task's wake-up)"


async def test_asyncios_own_bookkeeping_is_not_a_place_to_stop():
    class Watched(asyncio.Queue):
        def _put(self, item):
            self.verdict = safe_to_raise(sys._getframe(1))  # in Queue.put_nowait
            super()._put(item)

    queue = Watched()
    queue.put_nowait(1)
    assert not queue.verdict, "put_nowait cut short keeps the item but never wakes the getter"


def test_the_kata_takes_over_the_time_limit_where_batch_grading_loads_pytest_timeout_by_hand(tmp_path):
    """Batch grading turns plugin autoload off and names pytest-timeout (`-p pytest_timeout`), so
    the plugin manager knows it as "pytest_timeout", not "timeout": the kata's time limit was not
    installed there, and pytest-timeout's own alarm broke a loaded grading's report (INTERNALERROR,
    the test process ended: CI, 2026-12-02)."""
    from kata.batch.isolation import Limits, pytest_args

    args = pytest_args([], tmp_path, tmp_path, Limits(), seed=1)
    plugins = [word for flag, word in itertools.pairwise(args) if flag == "-p"]
    (tmp_path / "test_which_timer.py").write_text(
        "def test_which_timer(request):\n"
        "    assert request.config.pluginmanager.has_plugin('kata-timeouts'), 'not installed'\n"
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "--noconftest",
            "test_which_timer.py",
            "--target",
            str(tmp_path),
        ]
        + [word for plugin in plugins for word in ("-p", plugin)],
        cwd=tmp_path,
        env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "pytest_timeout" in plugins, f"the batch's plugins changed: {plugins}"
    assert done.returncode == 0, f"the kata's time limit is not the one in use:\n{done.stdout[-2000:]}"


def test_a_time_limit_never_lands_between_a_tests_phases(monkeypatch):
    """pytest turns what is raised in a test's setup, call or teardown into its failure; between
    them it makes its reports, and a raise there is an internal error that ends the whole run (a
    round of 4 exercises' variants, CI 2026-12-02). A limit that ran out waits for the next phase,
    or for its cancel at the end of the test."""
    from kata import timeouts

    monkeypatch.setattr(timeouts, "PATIENCE", 0.0)  # patience long run out: raise anywhere...
    patience = timeouts._Patience()
    plain = sys._getframe()  # plain code, no loop: a moment that loses nothing
    assert timeouts.PHASE.running, "this test's own call is a phase"
    assert patience.raise_now(plain) is True
    monkeypatch.setattr(timeouts.PHASE, "running", False)  # as between two phases
    assert patience.raise_now(plain) is False, "...but never between a test's phases"
    with timeouts.PHASE.of_a_test():
        assert patience.raise_now(plain) is True
    assert not timeouts.PHASE.running, "a phase's end is noted"
