"""The learner's saved progress: one small JSON file, written atomically.

    .kata/progress.json
    {"version": 1,
     "targets": {"exercises": {"02_gather": {"fingerprint": "...", "passed": true, "tasks": {"1": true},
                                             "checked": "2026-11-25T10:00:00", "seconds": 1.1,
                                             "hints": {"1": 2}, "solution_before_passing": null}}}}

Progress is kept per target directory, so `--target elsewhere` never mixes with
exercises/. A file that cannot be read is set aside (never deleted) and progress
starts afresh, with one line saying so. KATA_STATE_DIR moves the folder (tests use it).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from kata.catalog import REPO_ROOT
from kata.files import unused_path, write_atomically

VERSION = 1


def state_dir() -> Path:
    return Path(os.environ.get("KATA_STATE_DIR") or REPO_ROOT / ".kata")


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S")


def target_key(target: Path) -> str:
    """exercises/ and other folders in the repo by relative path, the rest by absolute path."""
    try:
        return target.resolve().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return str(target.resolve())


@dataclass
class ExerciseRecord:
    """What the grader remembers of one exercise in one target."""

    fingerprint: str = ""
    passed: bool = False
    tasks: dict[str, bool] = field(default_factory=dict)
    checked: str = ""
    seconds: float = 0.0
    # Each test function's seconds in the last check: grade.py deals the next check's tests out
    # to its child processes by them (kata.side_by_side).
    test_seconds: dict[str, float] = field(default_factory=dict)
    hints: dict[str, int] = field(default_factory=dict)
    solution_before_passing: str | None = None

    @classmethod
    def from_json(cls, raw: dict) -> ExerciseRecord:
        known = {k: raw[k] for k in cls.__dataclass_fields__ if k in raw}
        record = cls(**known)
        record.tasks = {str(k): bool(v) for k, v in dict(record.tasks).items()}
        record.hints = {str(k): int(v) for k, v in dict(record.hints).items()}
        record.test_seconds = {str(k): float(v) for k, v in dict(record.test_seconds).items()}
        return record

    def hints_shown(self) -> int:
        return sum(self.hints.values())


class ProgressFile:
    """Load, change, save. `warning` says what happened to a file that could not be read."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or state_dir() / "progress.json"
        self.targets: dict[str, dict[str, ExerciseRecord]] = {}
        self.warning: str | None = None
        self.save_failed = False
        self._load()
        self._as_loaded = self._snapshot(self.targets)

    @staticmethod
    def _snapshot(targets: dict[str, dict[str, ExerciseRecord]]) -> dict[tuple[str, str], dict]:
        return {(key, stem): asdict(rec) for key, records in targets.items() for stem, rec in records.items()}

    @staticmethod
    def _parse(text: str) -> dict[str, dict[str, ExerciseRecord]]:
        raw = json.loads(text)
        if raw.get("version") != VERSION:
            raise ValueError(f"unknown version {raw.get('version')!r}")
        return {
            key: {stem: ExerciseRecord.from_json(rec) for stem, rec in records.items()}
            for key, records in raw["targets"].items()
        }

    def _load(self) -> None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return
        except OSError as error:
            self.warning = f"could not read {self.path}: {error.strerror}; progress starts afresh"
            return
        try:
            self.targets = self._parse(text)
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            self.targets = {}
            aside = unused_path(
                self.path.parent, f"{self.path.name}.unreadable-{time.strftime('%Y%m%d-%H%M%S')}"
            )
            with contextlib.suppress(OSError):
                self.path.replace(aside)
            self.warning = (
                f"{_shown(self.path)} was unreadable ({_reason(error)}); it was kept as {_shown(aside)} "
                "and progress starts afresh (passed exercises are simply checked again)"
            )

    def records(self, target: Path) -> dict[str, ExerciseRecord]:
        return self.targets.setdefault(target_key(target), {})

    def record(self, target: Path, stem: str) -> ExerciseRecord:
        return self.records(target).setdefault(stem, ExerciseRecord())

    def _merged(self) -> dict[str, dict[str, ExerciseRecord]]:
        """What is on disk now (another grade.py, say watch, may have saved since we loaded), with
        the records this process changed laid over it."""
        try:
            merged = self._parse(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            merged = {}
        untouched = asdict(ExerciseRecord())
        for (key, stem), record in self._snapshot(self.targets).items():
            before = self._as_loaded.get((key, stem), untouched)  # a record only read is not a change
            if record != before:
                merged.setdefault(key, {})[stem] = self.targets[key][stem]
        return merged

    def save(self) -> None:
        """Save; when that is impossible (a read-only folder), say so once and carry on."""
        try:
            self._write()
        except OSError as error:
            if not self.save_failed:
                print(
                    f"grade.py: note: could not save progress to {_shown(self.path)} "
                    f"({error.strerror or error}); results are shown but not remembered",
                    file=sys.stderr,
                )
            self.save_failed = True

    def _write(self) -> None:
        """Lay this process's changes over what is on disk now, and write the whole file atomically."""
        self.targets = self._merged()
        self._as_loaded = self._snapshot(self.targets)
        data = {
            "version": VERSION,
            "targets": {
                key: {stem: asdict(rec) for stem, rec in sorted(records.items())}
                for key, records in self.targets.items()
            },
        }
        write_atomically(self.path, json.dumps(data, indent=1) + "\n")


def _reason(error: Exception) -> str:
    if isinstance(error, json.JSONDecodeError):
        return f"not JSON: {error.msg} at line {error.lineno}"
    return str(error) or type(error).__name__


def _shown(path: Path) -> str:
    try:
        return path.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return str(path)
