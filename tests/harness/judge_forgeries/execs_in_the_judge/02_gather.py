# appended to the exercise's stub (tests/harness/test_judge_mode.py puts them together)

# --- forgery: reach the judge's builtins through a judge coroutine's frame, exec there ---
def _in_judge(service, code):
    peer = service._kata_peer  # a slot on the proxy: read here, no message
    here = service(0)  # the judge makes FakeService._serve(0): a coroutine there
    number = peer._coroutines[here]  # its number in the judge's exports
    there = peer.proxy(number, "object", "coro")  # treat it as a plain object
    builtins = there.cr_frame.f_builtins  # public names: allowed by public_only; a dict by value
    there.close()  # never started, never logged; no "never awaited"
    here.close()
    builtins["exec"](code, {})  # runs in the judge's test loop thread


_CODE = "import sys\nsys.modules['kata.plugin']._judge = lambda *a, **k: None\n"


async def _forged(service):
    try:
        _in_judge(service, _CODE)
    except Exception as error:  # one process: no proxy, nothing to do
        print("forgery:", type(error).__name__, error)


async def fetch_all(fetch_user, user_ids):
    await _forged(fetch_user)
    raise NotImplementedError


async def fetch_profile(get_user, get_orders, user_id):
    await _forged(get_user)
    raise NotImplementedError
