"""The scan of one submission's files (kata.batch.scan), in a child process with a time and a memory limit.

In the grader's own process, a file that made the scan slow or big, whatever kata.batch.costs
missed, would stall the grading of the class or get the grader killed. So all of one student's
files are scanned by one child (`python -I -B`, started in about a tenth of a second), which:

- sets its own limit on address space (RLIMIT_AS, where the system has one) before it reads
  anything; running out is a MemoryError the scan turns into its "too big" flag, or the child's end;
- reads the files from stdin and writes, on stdout, one line when it starts a file and one with the
  file's flags when it is done with it.

The grader gives a submission SCAN_SECONDS in all. A file the scan did not finish gets one flag,
"could not be scanned (...)": the time was up (the child is killed; every file not done gets
it), or the child ended while scanning it (its memory, most likely): the files after it are then
scanned by a new child in the time left. Nothing the child writes is trusted but well-formed
lines about the files it was given.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import kata
from kata.batch.suspicious import NOT_SCANNED

SCAN_SECONDS = 20.0  # for all of one submission's files
MEMORY_BYTES = 1024**3  # address space of the scanning child (a 1 MB exercise file needs about 450 MB)
TIMED_OUT = "the scan took longer than {seconds:g} s"
ENDED = "the scan's process ended, most likely out of memory: over {megabytes:,} MB"
MAX_LINE = 64 * 1024

_ROOT = str(Path(kata.__file__).resolve().parent.parent)
BOOTSTRAP = (
    f"import sys; sys.path[:0] = [{_ROOT!r}]; from kata.batch.scan_process import main; sys.exit(main())"
)


def scan_in_child(
    files: dict[str, bytes], seconds: float = SCAN_SECONDS, memory_bytes: int = MEMORY_BYTES
) -> list[str]:
    """Flags for a submission's exercise files, as kata.batch.scan.scan_files gives them, in a child
    that may take `seconds` in all and `memory_bytes` of address space. Never raises for a file."""
    deadline = time.monotonic() + seconds
    by_stem: dict[str, list[str]] = {}
    pending = sorted(files)
    while pending:
        left = deadline - time.monotonic()
        timed_out = left <= 0
        if not timed_out:
            try:
                done, current, timed_out = _run_child(
                    {stem: files[stem] for stem in pending}, left, memory_bytes
                )
            except OSError as error:  # no process could be started: the machine's trouble
                why = f"its process could not start: {error.strerror or error}"
                return [f"{stem}.py: {NOT_SCANNED.format(why)}" for stem in sorted(files)]
            by_stem |= done
            pending = [stem for stem in pending if stem not in done]
        if timed_out:
            why = TIMED_OUT.format(seconds=seconds)
            by_stem |= {stem: [f"{stem}.py: {NOT_SCANNED.format(why)}"] for stem in pending}
            break
        if not pending:
            break
        stuck = current if current in pending else pending[0]  # the child ended while on it
        why = ENDED.format(megabytes=memory_bytes // 1024**2)
        by_stem[stuck] = [f"{stuck}.py: {NOT_SCANNED.format(why)}"]
        pending.remove(stuck)
    return [flag for stem in sorted(files) for flag in by_stem.get(stem, [])]


def _run_child(
    files: dict[str, bytes], seconds: float, memory_bytes: int
) -> tuple[dict[str, list[str]], str | None, bool]:
    """(flags of each file done, the file being scanned when it ended, whether the time ran out)."""
    header = json.dumps(
        {"memory_bytes": memory_bytes, "files": [[stem, len(data)] for stem, data in files.items()]}
    )
    process = subprocess.Popen(
        [sys.executable, "-I", "-B", "-c", BOOTSTRAP],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    timed_out = False
    try:
        output, _ = process.communicate(
            header.encode() + b"\n" + b"".join(files.values()), timeout=max(seconds, 0)
        )
    except subprocess.TimeoutExpired:
        timed_out = True
        process.kill()
        output, _ = process.communicate()
    except BaseException:
        process.kill()
        process.wait()
        raise
    done: dict[str, list[str]] = {}
    current = None
    for line in output.splitlines():
        record = _record(line, files)
        if record is None:
            continue
        stem, flags = record
        if flags is None:
            current = stem
        else:
            done[stem] = flags
    return done, current, timed_out


def _record(line: bytes, files: dict[str, bytes]) -> tuple[str, list[str] | None] | None:
    """(stem, its flags, or None for "started"), from a well-formed line about a file given; else None."""
    try:
        record = json.loads(line) if len(line) <= MAX_LINE else None
    except ValueError:
        return None
    if not isinstance(record, dict) or not isinstance(record.get("stem"), str) or record["stem"] not in files:
        return None
    flags = record.get("flags")
    if flags is None or (isinstance(flags, list) and all(isinstance(flag, str) for flag in flags)):
        return record["stem"], flags
    return None


# ---------------------------------------------------------------------------- in the child


def main() -> int:
    header = json.loads(sys.stdin.buffer.readline())
    _limit_memory(int(header["memory_bytes"]))
    files = {stem: sys.stdin.buffer.read(length) for stem, length in header["files"]}
    from kata.batch.scan import scan_files

    for stem, data in files.items():
        _say({"stem": stem, "flags": None})
        _say({"stem": stem, "flags": scan_files({stem: data})})
    return 0


def _limit_memory(memory_bytes: int) -> None:
    try:
        import resource
    except ImportError:  # no such limit here (Windows): the time limit still holds
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = memory_bytes if hard == resource.RLIM_INFINITY else min(memory_bytes, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _say(record: dict) -> None:
    sys.stdout.write(json.dumps(record) + "\n")
    sys.stdout.flush()
