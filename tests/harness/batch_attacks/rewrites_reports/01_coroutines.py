"""Attack: a process that waits for its grader to exit, then gives everyone full marks on disk.

It finds the output folder in the grader's command line, and once the grader is gone (and a
moment more, for the instructor to look away) rewrites gradebook.csv, results.csv, every
results.json and every cached result it finds there, and goes on doing so for minutes.
"""

import csv
import io
import json
import time
from pathlib import Path

from kit import Grader, background, deadline, grader, note, once, spawn, what_happened, write


def full_marks_csv(text: str) -> str:
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return text
    header, body = rows[0], rows[1:]
    for row in body:
        cells = dict(zip(header, row, strict=False))
        if "max_points" in cells:  # results.csv: one row per task
            cells.update(status="passed", points=cells["max_points"], message="")
        elif "max" in cells:  # gradebook.csv: one row per student
            cells.update(total=cells["max"], percent="100.0", flags="")
        row[:] = [cells.get(name, value) for name, value in zip(header, row, strict=False)]
    buffer = io.StringIO()
    csv.writer(buffer).writerows([header, *body])
    return buffer.getvalue()


def full_marks_json(data):
    """Every test passed and every score at its maximum, in any of the grader's JSON files."""
    if isinstance(data, dict):
        data = {key: full_marks_json(value) for key, value in data.items()}
        if data.get("outcome") in ("failed", "error", "skipped"):
            data.update(outcome="passed", message="")
        if data.get("status") == "failed":
            data["status"] = "passed"
        if "max_score" in data:
            data["score"] = data["max_score"]
        if isinstance(data.get("tests"), list) and "score" in data:
            data["score"] = sum(t.get("max_score", 0) for t in data["tests"] if isinstance(t, dict))
        return data
    if isinstance(data, list):
        return [full_marks_json(item) for item in data]
    return data


def rewrite(out: Path) -> None:
    for path in sorted(out.rglob("*")):
        if not path.is_file():
            continue
        try:
            text = path.read_text()
            if path.suffix == ".csv":
                write(path, full_marks_csv(text))
            elif path.suffix == ".json" or "cache" in str(path.relative_to(out)):
                write(path, json.dumps(full_marks_json(json.loads(text))))
        except (OSError, ValueError):
            continue


def wait_then_rewrite(*encoded: str) -> None:
    """Once the grader is gone, rewrite the reports, and again every few seconds (a rerun is undone too)."""
    until = deadline()
    mine = Grader.decode(*encoded) if encoded else None
    while time.monotonic() < until and (mine is None or mine.alive()):
        time.sleep(0.05)
    time.sleep(1.5)
    while mine is not None and mine.out is not None and time.monotonic() < until:
        rewrite(mine.out)
        time.sleep(3)


def start() -> None:
    mine = grader()
    if mine is None:
        note("no grader in sight: staying alive anyway")
    spawn("wait_then_rewrite", *(mine.encode() if mine else ()))


async def greet(fetch_name, user_id):
    return f"Hello, {await fetch_name(user_id)}!"


async def shipping_label(get_order, get_customer, get_address, order_id):
    """Not written: its failure message says what this attack did, for the test to see."""
    raise AssertionError(what_happened())


def make_requests(fetch_user, user_ids):
    raise NotImplementedError


if __name__ == "__main__":
    background(globals())
elif once("rewrites_reports"):
    start()
