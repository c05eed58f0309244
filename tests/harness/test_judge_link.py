"""kata.judge.link: the judge's side of the sandbox host it starts."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from kata.catalog import REPO_ROOT
from kata.judge.link import PREFIX_VARIABLE, SandboxLink, _pump
from kata.runner import run_tests


@pytest.mark.skipif(not hasattr(os, "getsid"), reason="sessions are POSIX's")
def test_the_sandbox_host_shares_the_judges_session_in_a_process_group_of_its_own():
    """The sandbox refuses setsid to learner code so that a submission's processes share one
    session (one autogroup share of the CPU). A host in a new session each time the judge starts
    it again (after a test that broke it) gave a submission a session per test (red team)."""
    link = SandboxLink(REPO_ROOT / "solutions")
    try:
        link.ensure()
        pid = link.process.pid
        assert os.getsid(pid) == os.getsid(0), "the host is in a session of its own"
        assert os.getpgid(pid) == pid, "the host leads a process group, which kata.reaping kills"
    finally:
        link.stop()


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_stopping_the_host_does_not_wait_for_a_stray_process_that_holds_its_output():
    """A process the learner's code started (and that left the host's group) may keep the host's
    output open after the host is gone. Stopping waited for that output to end: for ever (red
    team: every later test hung until its limit)."""
    link = SandboxLink(REPO_ROOT / "solutions")
    link.ensure()
    stray = open(f"/proc/{link.process.pid}/fd/1", "wb")  # noqa: SIM115 (held open past the stop)
    try:
        stopper = threading.Thread(target=link.stop, daemon=True)
        stopper.start()
        stopper.join(timeout=10)
        assert not stopper.is_alive(), "stopping the host waited for its output to be closed"
    finally:
        stray.close()


class _FullOutput:
    """The judge's stdout as pytest's capture file is at the file-size limit (RLIMIT_FSIZE): past
    `room` bytes every write fails with EFBIG."""

    def __init__(self, room: int) -> None:
        self.room = room
        self.kept = 0

    def write(self, text: str) -> int:
        if self.kept + len(text) > self.room:
            raise OSError(errno.EFBIG, os.strerror(errno.EFBIG))
        self.kept += len(text)
        return len(text)

    def flush(self) -> None:
        pass


def test_the_hosts_output_is_drained_past_what_the_judges_output_takes(monkeypatch):
    """A correct answer that printed 20 MB while imported got 0 for every task ("importing the
    file raised BrokenPipeError"): pytest's capture file reached the file-size limit, the pump
    gave up on the first failed write and closed the host's output. Output volume alone must
    never fail a test: what does not fit is read and dropped, never kept."""
    full = _FullOutput(room=64 * 1024)
    monkeypatch.setattr(sys, "stdout", full)
    writer = subprocess.Popen(
        [sys.executable, "-c", "for i in range(50_000): print('x' * 100)"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    pump = threading.Thread(target=_pump, args=(writer.stdout, "stdout", threading.Event()), daemon=True)
    pump.start()
    try:
        errors = writer.stderr.read()
        assert writer.wait(timeout=20) == 0, errors.decode(errors="replace")[-300:]
    finally:
        writer.kill()
        writer.stderr.close()
        pump.join(timeout=10)
    assert not pump.is_alive()
    assert 0 < full.kept <= 64 * 1024


# A sandbox prefix that makes every host take SLOW_START seconds to start, as a busy machine can.
SLOW_START = 2.5
DELAYED_START = [
    sys.executable,
    "-c",
    f"import os, sys, time; time.sleep({SLOW_START}); os.execvp(sys.argv[1], sys.argv[1:])",
]


@pytest.mark.timeout(120)
@pytest.mark.load_sensitive  # 01 in judge mode under a 1.5 s limit
def test_a_slow_host_start_is_not_counted_in_the_first_tests_time_limit(monkeypatch):
    """pytest-timeout's limit covers a test's setup: a host started in the first test (or again
    after a test that broke it) took over 2 s under load, and a correct answer timed out for it
    (a self-check beside two helpers: 02's first test, judge mode, 2 s limit)."""
    monkeypatch.setenv(PREFIX_VARIABLE, json.dumps(DELAYED_START))
    limit = SLOW_START - 1.0
    run = run_tests(
        [REPO_ROOT / "tests" / "test_01_coroutines.py"],
        REPO_ROOT / "solutions",
        wall_limit=100,
        extra=("--kata-judge", "--timeout", str(limit)),
    )
    failed = [f"{r.test}: {r.message[:200]}" for r in run.results if r.outcome != "passed"]
    assert run.results and not failed, (
        f"the reference failed with a host that starts in {SLOW_START} s and a {limit} s limit:\n"
        + "\n".join(failed)
    )
