"""Which sandbox this machine allows, and the one line that tells the instructor what it protects.

    bubblewrap  user namespaces (or root) and bubblewrap installed: everything in kata.sandbox.bubblewrap
    user        root without namespaces (some Docker setups, Gradescope's): the code runs as an
                unprivileged uid of its own (setpriv), cannot write the grader's files, and every
                process of that uid is killed when its exercise ends; it can still see the machine's
                files that are readable by anyone, other processes, and the network
    none        neither: only a process group, resource limits and a hard kill; said loudly

`choose_sandbox("auto")` tries the first two in that order with a real probe, once per process,
and refuses to go on with neither: running submissions unsandboxed must be asked for.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from kata.sandbox import bubblewrap, memory, syscalls
from kata.sandbox.accounts import Accounts
from kata.sandbox.jail import Jail, NamespaceJail, UserJail

KINDS = ("bubblewrap", "user", "none")
PROTECTIONS = {
    "bubblewrap": (
        "sandbox: bubblewrap (read-only kata and virtualenv; no other submission, solutions, output or "
        "cache in sight; own PID namespace; loopback-only network; unprivileged uid; "
        "every process killed when its exercise ends)"
    ),
    "user": (
        "sandbox: an unprivileged user per job ({why}); the kata, "
        "virtualenv, output and cache are not writable and every process is killed when its exercise "
        "ends, but files readable by anyone, other processes and the network are still in sight"
    ),
    "none": (
        "NOT SANDBOXED ({why}): submissions run as you, can read and write what you can, and a process "
        "that leaves its group can outlive grading; grade untrusted code on a machine with bubblewrap"
    ),
}


AUTOGROUP = Path("/proc/sys/kernel/sched_autogroup_enabled")


def cpu_shares() -> str:
    """How the cores are shared between submissions graded at once: per session with the kernel's
    autogroup (a submission's processes share one, kata.sandbox.syscalls refuses setsid), else
    per process (a submission's busy processes can slow a classmate's timing checks)."""
    try:
        enabled = AUTOGROUP.read_text(encoding="ascii").strip() == "1"
    except OSError:
        enabled = False
    if enabled:
        return "cores shared per submission (autogroup; new sessions refused)"
    return "cores shared per process, NOT per submission (no autogroup): use -j 1 when timing matters"


class SandboxUnavailable(RuntimeError):
    pass


def python_paths() -> tuple[Path, ...]:
    """Everything this Python needs to run: its installation and the virtualenv."""
    paths = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix), Path(sys.base_exec_prefix)}
    paths.add(Path(os.path.realpath(sys.executable)).parent.parent)
    return tuple(sorted(paths))


@dataclass
class Sandbox:
    kind: str
    why: str = ""  # why a stronger kind is not in force
    accounts: Accounts | None = None

    def protections(self, memory_bytes: int = memory.DEFAULT_BUDGET, jobs: int = 1) -> str:
        """One line: the kind's protections, whether graded code is kept off the kernel's
        keyrings, new namespaces and memory files (kata.sandbox.syscalls), and whether each
        sandbox's memory is bounded as a whole (kata.sandbox.memory), for every kind."""
        problem = syscalls.problem()
        keyrings = (
            "kernel keyrings, new namespaces and memory files refused (seccomp)"
            if not problem
            else f"kernel keyrings and new namespaces NOT refused ({problem}): submissions can pass data "
            "to one another there, and get past the sandbox's limits"
        )
        bounded = memory.describe(memory_bytes, jobs)
        return f"{PROTECTIONS[self.kind].format(why=self.why)}; {keyrings}; {bounded}; {cpu_shares()}"

    @property
    def drops_privileges(self) -> bool:
        return self.accounts is not None

    # Where the code sees the course and its files.
    def course_path(self, view: bubblewrap.View) -> Path:
        return bubblewrap.INSIDE_COURSE if self.kind == "bubblewrap" else view.course

    def target_path(self, view: bubblewrap.View) -> Path:
        return bubblewrap.INSIDE_TARGET if self.kind == "bubblewrap" else view.target

    def home_path(self, view: bubblewrap.View) -> Path:
        return bubblewrap.INSIDE_HOME if self.kind == "bubblewrap" else view.target.parent / "home"

    def start(
        self,
        inner: Sequence[str],
        view: bubblewrap.View,
        *,
        env: Mapping[str, str],
        pass_fds: Sequence[int] = (),
        trusted: bool = False,
        uid: int | None = None,
        judge: bool = False,
        memory_bytes: int | None = None,
    ) -> Jail:
        """Start `inner` in this sandbox. `uid`: the job slot's unprivileged uid (when we are root);
        `trusted`: no learner code runs (the collection run): it keeps the grader's uid. `judge`:
        `inner` is a judge (kata.judge), trusted code that starts the learner's code itself with
        `host_prefix(uid)` in front; it keeps the grader's uid, as root only the capabilities to
        drop the learner's, and shares its network namespace (loopback only) with that code, so
        the judge's servers see the learner's requests. `memory_bytes`: every process of the
        sandbox, from the first, runs in a memory cgroup of its own with that budget, where the
        machine allows it (kata.sandbox.memory; removed by the jail's kill)."""
        found = memory.hierarchy() if memory_bytes is not None else None
        cgroup = found.make(memory_bytes) if found is not None and memory_bytes is not None else None
        try:
            jail = self._start(
                inner, view, env=env, pass_fds=pass_fds, trusted=trusted, uid=uid, judge=judge, cgroup=cgroup
            )
        except BaseException:
            if cgroup is not None:
                cgroup.remove()
            raise
        jail.memory = cgroup
        return jail

    def _start(
        self,
        inner: Sequence[str],
        view: bubblewrap.View,
        *,
        env: Mapping[str, str],
        pass_fds: Sequence[int],
        trusted: bool,
        uid: int | None,
        judge: bool,
        cgroup: memory.Cgroup | None,
    ) -> Jail:
        def popen(argv: list[str], **options) -> subprocess.Popen:
            return subprocess.Popen(
                cgroup.enter(argv) if cgroup is not None else argv,
                env=dict(env),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                **options,
            )

        drop = None if trusted or judge else uid
        if self.kind == "bubblewrap":
            root = os.geteuid() == 0
            info_read, info_write = os.pipe()
            with contextlib.ExitStack() as files:
                # The learner's uid gets an account inside (as root: another user's sandbox runs
                # the code as nobody, who has one).
                inside = bubblewrap.accounts(uid) if root and uid is not None and not trusted else {}
                fds = {path: _readable(files, text) for path, text in inside.items()}
                try:
                    keep = bubblewrap.JUDGE_CAPABILITIES if judge else ()
                    argv = bubblewrap.command(
                        inner, view, uid=drop, info_fd=info_write, root=root, keep=keep, files=fds
                    )
                    process = popen(argv, pass_fds=(*pass_fds, info_write, *fds.values()))
                except BaseException:
                    os.close(info_read)
                    raise
                finally:
                    os.close(info_write)
            return NamespaceJail(process, info_read).judging(judge)
        home = self.home_path(view)
        home.mkdir(exist_ok=True)
        learner = None if trusted else uid
        if self.kind == "user" and learner is not None:
            os.chown(home, learner, learner)
            os.chmod(home, 0o700)
            argv = list(inner) if judge else [*self.host_prefix(learner), *inner]
            return UserJail(popen(argv, cwd=home, pass_fds=pass_fds), learner).judging(judge)
        return Jail(popen(list(inner), cwd=home, pass_fds=pass_fds)).judging(judge)

    def host_prefix(self, uid: int | None) -> list[str]:
        """What a judge puts in front of the learner's process (KATA_SANDBOX_PREFIX) to run it as
        `uid`; nothing where there is no uid to drop to (a user namespace's single uid, or none)."""
        if uid is None or os.geteuid() != 0 or self.kind == "none":
            return []
        if self.kind == "user":
            return [*bubblewrap.drop_to(uid)[:-1], "--pdeathsig=KILL", "--"]
        return bubblewrap.drop_to(uid)


def _readable(files: contextlib.ExitStack, content: bytes) -> int:
    """An open descriptor that reads `content` from its start (an unnamed temporary file, closed
    with `files`)."""
    file = files.enter_context(tempfile.TemporaryFile())  # noqa: SIM115 (closed by `files`)
    file.write(content)
    file.flush()
    file.seek(0)
    return file.fileno()


# Run as another user, Python must find its own standard library and packages, not fall back to
# another installation's (it does, silently, when its own folder cannot be read).
SAME_PYTHON = (
    "import sys, aiohttp, pytest; "
    f"sys.exit(0 if (sys.base_prefix, sys.prefix) == {(sys.base_prefix, sys.prefix)!r} "
    "else 'it cannot read its own installation')"
)


def _probe(argv: list[str], pass_fds: Sequence[int] = ()) -> str:
    """'' when `argv` runs and exits 0, else a short reason."""
    try:
        done = subprocess.run(
            argv, capture_output=True, timeout=30, stdin=subprocess.DEVNULL, pass_fds=tuple(pass_fds)
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return str(error)
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else f"exit code {done.returncode}"
    return ""


@functools.cache
def _bubblewrap_problem(probe_dir: str) -> str:
    if bubblewrap.bwrap_path() is None:
        return "bwrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    folder = Path(probe_dir)
    view = bubblewrap.View(course=folder, target=folder, readable=python_paths())
    read, write = os.pipe()
    try:
        argv = bubblewrap.command(
            [sys.executable, "-I", "-c", SAME_PYTHON],
            view,
            uid=_probe_uid(),
            info_fd=write,
            root=os.geteuid() == 0,
        )
        return _probe(argv, pass_fds=(write,))
    finally:
        os.close(read)
        os.close(write)


def _probe_uid() -> int | None:
    return bubblewrap.NOBODY if os.geteuid() == 0 else None


@functools.cache
def _user_problem() -> str:
    if os.geteuid() != 0:
        return "not root, so there is no other user to run as"
    if shutil.which("setpriv") is None:
        return "setpriv is not installed (util-linux)"
    why = _probe([*bubblewrap.drop_to(bubblewrap.NOBODY), sys.executable, "-I", "-c", SAME_PYTHON])
    return f"{sys.executable} cannot run as an unprivileged user ({why})" if why else ""


def choose_sandbox(wanted: str = "auto", probe_dir: Path | None = None) -> Sandbox:
    """The strongest sandbox that works here, or exactly `wanted`; SandboxUnavailable says why not.
    "auto" never settles for no sandbox at all: grading unsandboxed must be asked for (`none`)."""
    if wanted not in ("auto", *KINDS):
        raise SandboxUnavailable(f"unknown sandbox {wanted!r} (choose from auto, {', '.join(KINDS)})")
    reasons: list[str] = []
    for kind in KINDS:
        if wanted not in ("auto", kind) or (wanted == "auto" and kind == "none"):
            continue
        if kind == "bubblewrap":
            problem = _bubblewrap_problem(str(probe_dir or Path(__file__).parent))
        elif kind == "user":
            problem = _user_problem()
        else:
            problem = ""
        if not problem:
            accounts = Accounts() if os.geteuid() == 0 and kind != "none" else None
            why = "; ".join(reasons) if wanted == "auto" else f"chosen with --sandbox {kind}"
            return Sandbox(kind, why, accounts)
        if wanted == kind:
            raise SandboxUnavailable(f"the {kind} sandbox does not work here: {problem}")
        reasons.append(f"{kind} does not work here: {problem}")
    raise SandboxUnavailable(
        f"no sandbox works here ({'; '.join(reasons)}); install bubblewrap, or grade code you trust "
        "without one: --sandbox none"
    )
