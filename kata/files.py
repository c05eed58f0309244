"""Writing files safely: whole or not at all, and never over something kept aside."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def write_atomically(path: Path, data: bytes | str) -> None:
    """Write to a temporary file in the same folder, flush it to disk, then rename it over `path`.

    A reader (or a crash) never sees half a file. Text is written as UTF-8 exactly as given
    (no newline translation). Not tempfile.mkstemp: its files are 0600, and these files (a
    restored exercise, a report) should get the usual umask-based mode.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def unused_path(folder: Path, stem: str, suffix: str = "") -> Path:
    """folder/stem+suffix, or stem-2+suffix, stem-3+suffix...: the first name not taken."""
    candidate, serial = folder / f"{stem}{suffix}", 1
    while candidate.exists():
        serial += 1
        candidate = folder / f"{stem}-{serial}{suffix}"
    return candidate
