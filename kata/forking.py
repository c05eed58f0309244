"""`--kata-fork-groups PLAN.json`: one start-up, its tests run in forked children (Linux).

`grade.py NN` runs an exercise's tests in three to eight children at once (kata.side_by_side). Each
child started on its own used to import pytest, its plugins, aiohttp and the kata, parse its
options and collect the test file: about 0.26 s of CPU each, and 0.5-0.9 s on two cores before
the first test of a check could start. With this option one pytest process does all of that once,
then, when its tests would start, forks one child per group of test functions. Each child runs
only its group, as a run of its own: its own report (the group's tests as collected, then their
results), its own output, its own capture files. This process waits for them and writes each
one's exit code to PLAN's "codes" file (a JSON line as each ends, so a kill at the wall limit keeps
the codes so far); it runs no test itself.

The learner's file is not loaded before the fork (the `ex` fixture loads it afresh for each test),
so no learner code, event loop or thread is shared between children. Nothing is forked when a
thread is running (a fork keeps only the thread that calls it) or collection failed: the tests
then run here, in this process, and its own report says so.

PLAN: {"groups": [[test function name, ...], ...], "reports": [path, ...],
       "outputs": [path, ...], "codes": path}.
"""

from __future__ import annotations

import contextlib
import faulthandler
import json
import os
import sys
import threading
import traceback
from pathlib import Path

import pytest

from kata.runner import can_fork

OPTION = "--kata-fork-groups"
FORK_FAILED = 71  # the code recorded for a group whose child could not be forked


def function_name(item: pytest.Item) -> str:
    """What a group names a test by: its function, every parameter of it included."""
    return item.name.split("[", 1)[0]


def split(items: list[pytest.Item], groups: list[list[str]]) -> list[list[pytest.Item]]:
    """The collected items of each group, in collection order; an item no group names (a test
    the plan did not know of) goes with the first group, so every test runs."""
    where = {name: index for index, group in enumerate(groups) for name in group}
    chosen: list[list[pytest.Item]] = [[] for _ in groups]
    for item in items:
        chosen[where.get(function_name(item), 0)].append(item)
    return chosen


class ForkedGroups:
    """The plugin object for one run with a plan."""

    def __init__(self, plan: Path) -> None:
        self.plan = json.loads(plan.read_text(encoding="utf-8"))

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool | None:
        if session.testsfailed or threading.active_count() > 1 or not session.items:
            return None  # run here, as one run (a collection error is reported as usual)
        groups = split(session.items, self.plan["groups"])
        codes = Path(self.plan["codes"])
        for index, items in enumerate(groups):
            record = {"group": index, "ids": [item.nodeid for item in items]}
            _append(codes, record)
        sys.stdout.flush()
        sys.stderr.flush()
        children: dict[int, int] = {}
        for index, items in enumerate(groups):
            if not items:
                continue  # a group the collection left empty (its tests deselected): nothing to run
            try:
                pid = os.fork()
            except OSError as error:
                _append(codes, {"index": index, "code": FORK_FAILED, "problem": str(error)})
                continue
            if pid == 0:
                self._become_child(session, index, items)
                return None  # the child goes on with pytest's own loop, over its items only
            children[pid] = index
        while children:
            pid, status = os.wait()
            if pid in children:
                _append(codes, {"index": children.pop(pid), "code": os.waitstatus_to_exitcode(status)})
        return True  # every test ran, in the children

    def _become_child(self, session: pytest.Session, index: int, items: list[pytest.Item]) -> None:
        """In the forked child: its own output and capture files, its own report, its items."""
        try:
            capture = session.config.pluginmanager.getplugin("capturemanager")
            if capture is not None:
                capture.stop_global_capturing()  # the files it captured to are shared with the parent
            output = os.open(self.plan["outputs"][index], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(output, 1)
            os.dup2(output, 2)
            os.close(output)
            if faulthandler.is_enabled():  # a crash's stacks go with this child's output
                faulthandler.enable(file=2)
            if capture is not None:
                capture.start_global_capturing()
                capture.suspend_global_capture()
            reporter = session.config.pluginmanager.get_plugin("kata-report")
            if reporter is not None:
                reporter.start_over(Path(self.plan["reports"][index]), items)
            session.items[:] = items
            session.testscollected = len(items)
        except BaseException:  # the child must never go back to being the parent
            with contextlib.suppress(Exception):
                traceback.print_exc()
            os._exit(FORK_FAILED)


def _append(path: Path, record: dict) -> None:
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(record) + "\n")


def register(config: pytest.Config) -> None:
    """At configure (kata.plugin): fork with the plan given, where forking is safe."""
    plan = config.getoption("kata_fork_groups", None)
    if plan and can_fork() and not config.getoption("kata_judge", False):
        config.pluginmanager.register(ForkedGroups(Path(plan)), "kata-fork-groups")
