"""The batch cache: each student's raw results, kept outside every sandbox and authenticated.

An entry is reused only when everything that can change a grade is unchanged: the student's
files, every file of the course that runs (kata.batch.course), the Python and dependency
versions, the grading options (seed, limits, exercises, sandbox) and the points file. Each entry
carries an HMAC-SHA256 made with a key kept in DIR/.cache/key (mode 0600, in a 0700 folder that
no sandbox can see), so an entry that was planted or edited is ignored: the student is graded
again. The fingerprint alone is computable by anyone; the key is what makes an entry ours.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import importlib.metadata
import json
import os
import secrets
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from kata.files import write_atomically
from kata.report import TestResult

CACHE_FOLDER = ".cache"
CACHE_VERSION = 2


@dataclass
class Graded:
    """One student's raw outcome."""

    fingerprint: str
    results: list[TestResult]
    flags: list[str] = field(default_factory=list)
    seconds: float = 0.0
    seed: int = 0
    cached: bool = False


def environment_digest() -> str:
    """Python and every installed distribution's version: a new pytest or aiohttp grades again."""
    digest = hashlib.sha256(f"cache v{CACHE_VERSION}\0{sys.version}\0{sys.implementation.name}".encode())
    versions = sorted(
        f"{(d.metadata['Name'] or '').lower()}=={d.version}" for d in importlib.metadata.distributions()
    )
    digest.update("\n".join(versions).encode())
    return digest.hexdigest()


def context_digest(course_digest: str, options: dict, points_bytes: bytes) -> str:
    """Everything but the student's files that a grade depends on, as one digest per batch."""
    digest = hashlib.sha256(environment_digest().encode())
    digest.update(course_digest.encode())
    digest.update(json.dumps(options, sort_keys=True).encode())
    digest.update(hashlib.sha256(points_bytes).digest())
    return digest.hexdigest()


def fingerprint(context: str, student: str, files: dict[str, bytes]) -> str:
    digest = hashlib.sha256(context.encode() + b"\0" + student.encode() + b"\0")
    for stem, data in sorted(files.items()):
        digest.update(stem.encode() + b"\0" + hashlib.sha256(data).digest())
    return digest.hexdigest()


class Cache:
    def __init__(self, out: Path) -> None:
        self.folder = out / CACHE_FOLDER
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.folder, 0o700)
        self.key = self._key()

    def _key(self) -> bytes:
        path = self.folder / "key"
        with contextlib.suppress(OSError):
            key = path.read_bytes()
            if len(key) == 32:
                return key
        key = secrets.token_bytes(32)
        temporary = self.folder / f".key.{secrets.token_hex(8)}"
        handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(handle, "wb") as out:
            out.write(key)
        os.replace(temporary, path)
        return key

    def _path(self, student: str) -> Path:
        return self.folder / f"{hashlib.sha256(student.encode()).hexdigest()[:32]}.json"

    def _mac(self, body: bytes) -> str:
        return hmac.new(self.key, body, hashlib.sha256).hexdigest()

    def read(self, student: str, wanted: str) -> Graded | None:
        try:
            entry = json.loads(self._path(student).read_text(encoding="utf-8"))
            body = entry["body"].encode("utf-8")
            if not hmac.compare_digest(str(entry["mac"]), self._mac(body)):
                return None
            raw = json.loads(body)
            if raw.get("fingerprint") != wanted or raw.get("student") != student:
                return None
            return Graded(
                fingerprint=raw["fingerprint"],
                results=[TestResult(**r) for r in raw["results"]],
                flags=[str(f) for f in raw.get("flags", [])],
                seconds=float(raw.get("seconds", 0.0)),
                seed=int(raw.get("seed", 0)),
                cached=True,
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def write(self, student: str, graded: Graded) -> None:
        data = {k: v for k, v in asdict(graded).items() if k != "cached"}
        body = json.dumps({**data, "student": student}, sort_keys=True)
        entry = {"body": body, "mac": self._mac(body.encode("utf-8"))}
        write_atomically(self._path(student), json.dumps(entry))


SEED_FILE = "seed"


def remembered_seed(out: Path) -> int | None:
    """The seed the last grading into `out` used: the same inputs again, so that a student whose
    files have not changed is not graded again (an unreadable or edited file: None, a new seed)."""
    with contextlib.suppress(OSError, ValueError):
        seed = int((out / CACHE_FOLDER / SEED_FILE).read_text(encoding="ascii").strip())
        return seed if 0 <= seed < 2**63 else None
    return None


def remember_seed(out: Path, seed: int) -> None:
    folder = out / CACHE_FOLDER
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    write_atomically(folder / SEED_FILE, f"{seed}\n")
