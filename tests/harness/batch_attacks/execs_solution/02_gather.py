"""Attack: run the reference solution from the grader's repository instead of writing one."""

from pathlib import Path

from kit import ARMED, grader


def solution_text() -> str | None:
    places = []
    if ARMED:
        try:
            import kata.catalog

            places.append(Path(kata.catalog.REPO_ROOT))
        except Exception:
            pass
        mine = grader()
        if mine is not None:
            places.append(mine.repo)
    for place in places:
        try:
            return (place / "solutions" / "02_gather.py").read_text()
        except OSError:
            continue
    return None


async def fetch_all(fetch_user, user_ids):
    raise NotImplementedError


async def fetch_profile(get_user, get_orders, user_id):
    raise NotImplementedError


exec(solution_text() or "")
