"""kata.sandbox.syscalls: the seccomp filter that keeps graded code off the kernel's keyrings.

The filter is installed in a throwaway process each time (it cannot be removed once in place).
tests/harness/test_batch_isolation.py proves it where it matters: in graded code, every sandbox kind.
"""

import platform
import subprocess
import sys

import pytest

from kata.catalog import REPO_ROOT
from kata.sandbox import choose_sandbox, syscalls

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.machine() not in syscalls.MACHINE_ARCH,
    reason="the filter is for Linux on x86_64, aarch64 and i686",
)

FILTERED = f"""
import os, subprocess, sys
sys.path[:0] = [{str(REPO_ROOT)!r}]
from kata.sandbox import syscalls
assert not syscalls.keyrings_refused(), "refused before the filter"
syscalls.deny_keyrings()
assert syscalls.keyrings_refused(), "keyctl still works in the filtered process"
child = subprocess.run([sys.executable, "-I", "-c", {{child!r}}])
assert child.returncode == 0, "a process it starts is not filtered"
with open(os.devnull, "rb") as file:  # everything else still works
    file.read()
assert os.getpid() > 0 and os.fork is not None
print("ok")
"""
CHILD = f"""
import sys
sys.path[:0] = [{str(REPO_ROOT)!r}]
from kata.sandbox import syscalls
sys.exit(0 if syscalls.keyrings_refused() else 1)
"""


def test_the_filter_refuses_the_key_calls_to_the_process_and_what_it_starts():
    done = subprocess.run(
        [sys.executable, "-I", "-c", FILTERED.format(child=CHILD)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def test_the_grader_finds_the_filter_works_here():
    assert syscalls.problem() == "", "the grader would say keyrings are NOT refused"
    assert (
        "kernel keyrings, new namespaces and memory files refused (seccomp)"
        in choose_sandbox("none").protections()
    )


def verdict(program: list[tuple[int, int, int, int]], arch: int, number: int, flags: int = 0) -> int:
    """What the BPF `program` returns for call `number` of `arch` whose first argument is `flags`,
    walked as the kernel would."""
    pc, loaded = 0, 0
    offsets = {syscalls.ARCH_OFFSET: arch, syscalls.NR_OFFSET: number, syscalls.FIRST_ARGUMENT_OFFSET: flags}
    while True:
        code, jt, jf, k = program[pc]
        if code == syscalls.BPF_LD | syscalls.BPF_W | syscalls.BPF_ABS:
            loaded = offsets[k]
            pc += 1
        elif code == syscalls.BPF_RET | syscalls.BPF_K:
            return k
        else:
            test = (loaded == k) if code & 0xF0 == syscalls.BPF_JEQ else bool(loaded & k)
            pc += 1 + (jt if test else jf)


EPERM = syscalls.SECCOMP_RET_ERRNO | 1


@pytest.mark.parametrize(
    "calls",
    [syscalls.KEY_CALLS, syscalls.SESSION_CALLS, syscalls.WAYS_PAST_THE_LIMITS],
    ids=["keyrings", "sessions", "namespaces and memory files"],
)
def test_every_architecture_s_calls_are_refused_and_unknown_architectures_get_nothing(calls):
    """Walks the BPF program as the kernel would, for each architecture's calls."""
    clones = syscalls.CLONE_CALLS if calls is syscalls.WAYS_PAST_THE_LIMITS else None

    def verdict(arch: int, number: int) -> int:
        return globals()["verdict"](syscalls.program(calls, clones), arch, number)

    eperm = EPERM
    for arch, numbers in calls.items():
        for number in numbers:
            assert verdict(arch, number) == eperm, f"arch {arch:#x}: call {number} allowed"
        for number in (0, 1, 39, 60, 231, 247, 251):
            assert verdict(arch, number) == syscalls.SECCOMP_RET_ALLOW, f"arch {arch:#x}: {number} refused"
    assert verdict(syscalls.AUDIT_ARCH_X86_64, syscalls.X32_SYSCALL_BIT | 39) == eperm, "x32 allowed"
    assert verdict(0x40000028, 0) == eperm, "32-bit ARM (unknown here) allowed"


def test_clone_is_refused_only_with_a_namespace_flag_and_clone3_is_not_known():
    """clone3's flags are in memory, out of a filter's reach: ENOSYS sends the C library back to
    clone, whose flags the filter reads. A thread's or a fork's clone still works."""
    program = syscalls.program(syscalls.WAYS_PAST_THE_LIMITS, syscalls.CLONE_CALLS)
    enosys = syscalls.SECCOMP_RET_ERRNO | 38
    thread_flags = 0x003D0F00  # CLONE_VM|FS|FILES|SIGHAND|THREAD|SYSVSEM|SETTLS|PARENT_SETTID|CHILD_CLEARTID
    fork_flags = 0x01200011  # CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID|SIGCHLD
    for arch, (clone, clone3) in syscalls.CLONE_CALLS.items():
        assert verdict(program, arch, clone3) == enosys, f"arch {arch:#x}: clone3 not ENOSYS"
        for flags in (thread_flags, fork_flags):
            assert verdict(program, arch, clone, flags) == syscalls.SECCOMP_RET_ALLOW, f"{arch:#x} {flags:#x}"
        for flag in (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000):
            refused = verdict(program, arch, clone, fork_flags | flag)
            assert refused == EPERM, f"arch {arch:#x}: {flag:#x} allowed"


NAMESPACES = f"""
import ctypes, errno, os, subprocess, sys, threading
sys.path[:0] = [{str(REPO_ROOT)!r}]
from kata.sandbox import syscalls
syscalls.deny_ways_past_the_limits()
assert syscalls.new_namespaces_refused(), "unshare(CLONE_NEWUSER) still works"
libc = ctypes.CDLL(None, use_errno=True)
assert libc.memfd_create(b"x", 0) == -1 and ctypes.get_errno() == errno.EPERM, "memfd_create works"
params = ctypes.create_string_buffer(120)  # struct io_uring_params
assert libc.syscall(425, 4, params) == -1 and ctypes.get_errno() == errno.EPERM, "io_uring_setup works"
if subprocess.run(["sh", "-c", "command -v unshare"], capture_output=True).returncode == 0:
    assert subprocess.run(["unshare", "-Ur", "true"], capture_output=True).returncode != 0, "unshare -Ur"
thread = threading.Thread(target=print, args=("thread",))
thread.start()
thread.join()
assert subprocess.run([sys.executable, "-c", "pass"]).returncode == 0, "a program could not start"
print("ok")
"""


def test_a_filtered_process_gets_no_namespace_memory_file_or_io_uring_but_threads_and_programs_work():
    argv = [sys.executable, "-I", "-c", NAMESPACES]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stdout + done.stderr[-2000:]


SESSIONS = f"""
import os, sys
sys.path[:0] = [{str(REPO_ROOT)!r}]
from kata.sandbox import syscalls
syscalls.deny_new_sessions()
for who in ("itself", "a child"):
    pid = os.fork() if who == "a child" else 0
    if who == "itself" or pid == 0:
        try:
            os.setsid()
        except PermissionError:
            if pid == 0 and who == "a child":
                os._exit(0)
        else:
            print(f"setsid worked in {{who}}")
            os._exit(1) if who == "a child" else sys.exit(1)
    if pid:
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0, "a child of the filtered process got a session"
print("ok")
"""


def test_a_sandbox_hosts_processes_cannot_start_sessions_of_their_own():
    """Each new session is a scheduling group with a whole sandbox's share of the CPU (autogroup):
    a submission's busy processes, each in a session of its own, took the cores from a classmate."""
    done = subprocess.run([sys.executable, "-I", "-c", SESSIONS], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stdout + done.stderr[-2000:]


SESSION_LEARNER = """
import os

async def new_session():
    pid = os.fork()  # a child: never a process group's leader, which setsid refuses anyway
    if pid == 0:
        try:
            os.setsid()
        except PermissionError:
            os._exit(3)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    return "refused" if os.waitstatus_to_exitcode(status) == 3 else "a session of its own"
"""

SESSION_TESTS = """
async def test_new_session(ex):
    assert await ex.new_session() == "refused"
"""


@pytest.mark.load_sensitive  # a child suite under the 0.1 s stall limit
def test_in_judge_mode_the_learners_code_cannot_start_a_session(tmp_path):
    """kata.sandbox.host refuses setsid before it loads learner code (batch grading's mode)."""
    from kata.runner import run_tests
    from tests.harness.test_guard import make_suite

    test_file, target = make_suite(tmp_path, learner=SESSION_LEARNER, tests=SESSION_TESTS)
    run = run_tests([test_file], target, wall_limit=60, cwd=tmp_path, extra=("--kata-judge",))
    (result,) = run.results
    assert result.outcome == "passed", result.message
