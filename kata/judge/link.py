"""The judge's link to the sandbox: the host process, the channel, and the host's proxy.

One host process serves a whole test run; each test loads a fresh copy of the learner's module
in it. When the host is gone (the learner's code ended it, broke the channel, or a test timed
out and the host was stopped), the next test starts a new one.

`KATA_SANDBOX_PREFIX` (a JSON list) puts a command in front of the host's, so that batch
grading can start it inside bubblewrap; the socket's end is passed as an open descriptor.

The host never outlives this process: it ends itself once the channel closes, and on Linux the
kernel kills it when this process dies (kata.sandbox.host.end_with_the_judge); a runner that
stops this process kills the host with it (kata.reaping.kill_tree).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kata import reaping, where
from kata.remote.channel import Channel
from kata.remote.interfaces import lent_only
from kata.remote.peer import Peer
from kata.runner import child_env

PREFIX_VARIABLE = "KATA_SANDBOX_PREFIX"
# The uid the learner's code runs as in batch grading's sandbox (kata.judge.session stops all its
# processes at each change of exercise); unset elsewhere.
LEARNER_UID_VARIABLE = "KATA_LEARNER_UID"
STOP_SECONDS = 5.0  # for a killed host to be gone
HOST = 0  # the number the host lends itself under (kata.sandbox.host)
# How long the judge waits for how a call it cancelled ended in the sandbox (the learner's cleanup
# runs meanwhile); past that it is given up, so that no sandbox can make the judge wait forever.
CANCEL_GRACE = 5.0
GONE = (
    "the process your code ran in ended{how} while this test was running: does your code call "
    "sys.exit() or os._exit(), or crash the interpreter?"
)
BROKE = (
    "the process your code ran in broke its link with the tests while this test was running: "
    "something in it wrote to the link (a file descriptor your code did not open), so nothing "
    "it said after could be trusted"
)


class SandboxLink:
    def __init__(self, target: Path) -> None:
        self.target = target
        self.process: subprocess.Popen | None = None
        self.peer: Peer | None = None
        self.host: Any = None
        self._pumps: list[threading.Thread] = []
        self._stopped = threading.Event()
        self._started = 0.0

    def ensure(self) -> Any:
        """The host's proxy, starting the host process if there is none alive."""
        if self.peer is None or self.peer.lost is not None or self.process.poll() is not None:
            self.stop()
            self._start()
        return self.host

    def ask(self, method: str, *args: Any) -> Any:
        """Call the host's `method` and wait for the answer: one message each way (through the
        host's proxy, reading the method would be a round trip of its own)."""
        self.ensure()
        return self.peer.request(HOST, "call", method, args)

    async def ask_async(self, method: str, *args: Any, answered: Callable[[], None] | None = None) -> Any:
        """Await the host's async `method`: one message each way. `answered` runs the moment the
        answer is handed over, a few loop turns before this await returns (Peer.request_async)."""
        self.ensure()
        return await self.peer.request_async(HOST, "acall", method, args, answered=answered)

    def _start(self) -> None:
        judge_end, host_end = socket.socketpair()
        sandboxed = PREFIX_VARIABLE in os.environ  # batch grading: other exercises' processes share it
        prefix = json.loads(os.environ.get(PREFIX_VARIABLE, "[]"))
        command = [
            *prefix,
            sys.executable,
            *_import_only_from_where_the_grader_put_it(sandboxed),
            "-m",
            "kata.sandbox.host",
        ]
        command += ["--fd", str(host_end.fileno()), "--target", str(self.target)]
        if where.FILE_NAMES_ONLY:  # its messages name the learner's files as the judge's do
            command.append("--file-names")
        if sandboxed:
            command.append("--not-dumpable")
        if threading.current_thread() is threading.main_thread():
            # The kernel signals a parent's death when the thread that started the child ends:
            # only the main thread lives as long as this process.
            command.append("--die-with-parent")
        env = child_env()
        env["PYTHONUNBUFFERED"] = "1"
        self._started = time.time()
        self.process = subprocess.Popen(
            command,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=[host_end.fileno()],
            # A process group of its own, to be killed with it (kata.reaping), in the judge's
            # session: the sandbox refuses setsid to learner code so that all of a submission's
            # processes share one session (one autogroup share of the CPU); a new session for
            # every host the judge starts again would hand a submission one more each time.
            process_group=0,
        )
        host_end.close()
        self.peer = Peer(
            Channel(judge_end),
            may_touch=lent_only,
            cancel_grace=CANCEL_GRACE,
            mirror_loops=True,
            tells_callers=True,
        ).start()
        self.host = self.peer.proxy(HOST, "object", "the sandbox")
        self._stopped = threading.Event()
        self._pumps = [
            threading.Thread(target=_pump, args=(self.process.stdout, "stdout", self._stopped), daemon=True),
            threading.Thread(target=_pump, args=(self.process.stderr, "stderr", self._stopped), daemon=True),
        ]
        for pump in self._pumps:
            pump.start()

    def gone_message(self) -> str:
        if self.peer is not None and self.peer.broke_protocol:
            return BROKE
        code = self.process.poll() if self.process is not None else None
        if code is None and self.process is not None:
            try:
                code = self.process.wait(timeout=1)
            except subprocess.TimeoutExpired:
                code = None
        how = f" (exit code {code})" if code is not None else ""
        return GONE.format(how=how)

    def stop(self) -> None:
        """End the host and everything it started."""
        if self.peer is not None:
            self.peer.close()
        if self.process is not None:
            self._stopped.set()
            reaping.kill_tree(self.process, self._started)
            # Out of reach after that: the sandbox ends it with the exercise.
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=STOP_SECONDS)
            # The pumps close the host's output when it ends, or at their next line once it is
            # stopped. Closing it here would wait for them: for ever, if a process the learner's
            # code started still holds it open (and writes nothing).
        self.process = self.peer = self.host = None


PUMP_CHUNK = 65536


def _import_only_from_where_the_grader_put_it(sandboxed: bool) -> list[str]:
    """Python's options for a host: its imports never come from a folder the learner's code can
    write to. `-P`: not from the working folder (`-m` would put it first on the path); in a sandbox
    (batch grading), `-s` too: not from the user's site-packages under HOME, nor their .pth files.
    A red team's 01 wrote a `kata.py` into its working folder, /sandbox, which every exercise's
    host shares: the next exercise's host imported it in place of the grader's package, and it
    silenced that host's reports (02's and 09's wrong answers earned full marks, unflagged). On a
    learner's own machine, their user site-packages may hold what the kata needs."""
    return ["-P", "-s"] if sandboxed else ["-P"]


def _pump(stream, name: str, stopped: threading.Event) -> None:
    """The host's output, into this process's (pytest captures it for the test that runs), until
    no process holds it open any more, or the host is stopped: what a process the learner's code
    started still writes then is not the next test's; then closed.

    Once this process's output takes no more, the rest is read and dropped: in batch grading
    pytest's capture file stops at the file-size limit (EFBIG), and the pump gave up there and
    closed the host's output, so a correct answer that printed 20 MB while imported failed every
    test with a BrokenPipeError. Output volume alone never fails a test."""
    passing = True
    try:
        # At most PUMP_CHUNK bytes at a time: output without a newline (endless 'x's) is passed
        # on in pieces, not gathered whole in memory, and a stop is seen at the next piece.
        for line in iter(lambda: stream.readline(PUMP_CHUNK), b""):
            if stopped.is_set():
                break
            if passing:
                passing = _pass_on(line, name)
    except (OSError, ValueError):
        pass
    finally:
        stream.close()


def _pass_on(line: bytes, name: str) -> bool:
    """Write a piece of the host's output to this process's; False when it was not taken (then
    trying again each piece would cost more than the learner's print: 65 µs a line)."""
    try:
        out = getattr(sys, name)
        out.write(line.decode(errors="replace"))
        out.flush()
    except (OSError, ValueError):
        return False
    return True
