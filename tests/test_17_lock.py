"""Exercise 17: a check-then-act across an `await` races; one shared lock per thing makes it safe.

The races here are not left to luck. The fake storage answers a read with the balance it
held when the read arrived, and a write lands only when it completes, so every withdrawal
that starts while another sits between its read and its write sees a stale balance. The
test starts all withdrawals at once, so without a lock they always interleave.
"""

import asyncio
import itertools

import pytest

from kata.testing import (
    FakeService,
    assert_call_count,
    assert_ran_together,
    assert_same,
    describe,
    holds,
    margins,
    stopwatch,
)
from kata.testing.cancelling import Run, assert_ended_after_the_cancel, assert_ended_cancelled
from kata.testing.caps import (
    MANY_CALLS_STALL_LIMIT,
    assert_no_cap_of_its_own,
    held_until_all_in_flight,
    more_than_any_cap,
)
from kata.testing.errors import Aborted
from kata.testing.hang_guard import hang_guard
from kata.testing.letting_run import let_the_code_run
from kata.testing.own_timers import OwnTimersProbe

IO_DELAY = 0.02  # one read or one write to the fake storage
FETCH_DELAY = 0.2
# A fetch that nothing needs to see overlap another. (The cancelling tests hold their first fetch
# until the cancel has landed, so every cancel surely comes while it runs; a fetch after it is short.)
SHORT_FETCH_DELAY = 0.05
# The gets started meanwhile are waiting for the fetch by then, even in judge mode on a busy machine
# (a cancel that crosses before the call it cancels has begun there is not one this test judges).
WAITING = 0.15
HANG = 2  # correct code is done far sooner (a hang guard)
CANCELLED_READ = 0.5  # a read that is cancelled: long, so the cancel surely lands in it
WORDS = ["alpha", "bravo", "delta", "kilo", "lima", "oscar", "romeo", "tango", "victor", "zulu"]

LOST_UPDATE = (
    "{count} withdrawals ran at the same time and {wins} of them succeeded, taking {taken} out of "
    "{start}: {expected} should be left, but the balance is {found}. A withdrawal read the balance "
    "while another was between its read and its write, and then wrote over that one's result "
    "(a lost update). Hold one lock, shared by every withdrawal from this account, from the read "
    "through the write. (`async with asyncio.Lock():` inside withdraw makes a new lock per call, "
    "and a new lock locks nothing.)"
)


class Storage:
    """A fake remote store holding one balance.

    A read answers with the balance it found when it arrived; a write lands when it
    completes. Both go through `io`, an instrumented FakeService that records when each
    operation ran (two accounts may share one `io` to show whether they overlapped).
    """

    # In judge mode, all the learner's code may use of it from the other process.
    _kata_remote = ("read", "write")

    def __init__(self, balance, io=None):
        self.balance = balance
        self.io = io if io is not None else FakeService("storage", delay=IO_DELAY)
        self.written = []  # every balance written, in order

    async def read(self):
        seen = self.balance
        await self.io("read")
        return seen

    async def write(self, balance):
        if type(balance) is not int:
            raise AssertionError(
                f"storage.write() should be given the new balance, an int; found {describe(balance)}"
            )
        await self.io("write", balance)
        self.balance = balance
        self.written.append(balance)


def assert_yes_or_no(results, amounts):
    for amount, result in zip(amounts, results, strict=True):
        if type(result) is not bool:
            raise AssertionError(
                f"withdraw({amount}) should return True (paid) or False (refused), found {describe(result)}"
            )


async def withdraw_all(ex, storage, amounts):
    """Every withdrawal started at once on one account; their results, checked to be bools."""
    account = ex.Account(storage)
    results = await asyncio.gather(*(account.withdraw(amount) for amount in amounts))
    results = list(results)
    assert_yes_or_no(results, amounts)
    return results


@pytest.mark.task(1)
async def test_withdrawals_one_after_another_update_the_balance(ex, rng):
    first, second = rng.randrange(20, 60), rng.randrange(20, 60)
    start = first + second + rng.randrange(10, 100)
    # Paid in after the first withdrawal, straight into the storage (where the balance is kept).
    deposit = rng.randrange(10, 100)
    too_much = start + deposit - first - second + rng.randrange(1, 50)
    storage = Storage(start)
    account = ex.Account(storage)

    results = [await account.withdraw(first)]
    storage.balance += deposit
    results += [await account.withdraw(amount) for amount in (second, too_much)]

    assert_yes_or_no(results, (first, second, too_much))
    assert_same(
        results,
        [True, True, False],
        f"the results of withdraw({first}), withdraw({second}) and then withdraw({too_much}) "
        f"from a balance of {start}, with {deposit} paid in after the first",
    )
    if storage.balance == start - first - second:
        raise AssertionError(
            f"from a balance of {start}, withdraw({first}) paid; then {deposit} was paid into the "
            f"account's storage, which held {start - first + deposit}; then withdraw({second}) paid and "
            f"left {storage.balance}, as if the deposit had never been made. withdraw worked from a "
            "balance it kept from before: the balance is kept in `storage`, so read it "
            "(`await self.storage.read()`) at every withdrawal, not once."
        )
    assert_same(storage.balance, start + deposit - first - second, "the balance left")


@pytest.mark.task(1)
async def test_a_withdrawal_of_exactly_the_balance_is_paid(ex, rng):
    # Both sides of the boundary, every run: one more than the balance is refused, exactly the
    # balance is paid. One after another, so that only the comparison is judged here (a race is
    # the next tests' to report).
    start = rng.randrange(20, 200)
    storage = Storage(start)
    account = ex.Account(storage)

    over = await account.withdraw(start + 1)
    assert_yes_or_no([over], [start + 1])
    if over:
        raise AssertionError(
            f"withdraw({start + 1}) from a balance of {start} returned True (the balance is now "
            f"{storage.balance}): {start + 1} is more than the balance, so it should be refused "
            "and the balance left as it is"
        )
    assert_same(storage.balance, start, f"the balance after withdraw({start + 1}) was refused")
    exact = await account.withdraw(start)
    assert_yes_or_no([exact], [start])
    if not exact:
        raise AssertionError(
            f"withdraw({start}) from a balance of exactly {start} returned False: a balance that is "
            "at least `amount` covers it, and exactly `amount` is at least `amount`. Refuse only "
            "when `balance < amount`: paying only when `balance > amount` refuses a withdrawal of "
            "the whole balance."
        )
    assert_same(storage.balance, 0, f"the balance after withdraw({start}) from a balance of {start}")


@pytest.mark.task(1)
async def test_withdrawals_at_the_same_time_lose_nothing(ex, rng, wake_watch):
    amounts = [rng.randrange(10, 150) for _ in range(6)]
    start = rng.randrange(1000, 2000)
    storage = Storage(start)

    # Its own timers are judged by what they do as each read and write ends (kata.testing.own_timers):
    # a time limit of its own gives up on a slow store, a poll of the lock never sees it free.
    fix = "Wait on the lock itself: `async with self.lock:` sleeps until the lock is free, however long."
    async with wake_watch(ex) as wakes:
        with OwnTimersProbe(wakes, "withdraw", storage.io, named="the storage") as timers:
            task = asyncio.create_task(withdraw_all(ex, storage, amounts))
            results = await timers.awaited(task, [True] * len(amounts), fix=fix)

    if not all(results):
        refused = [amount for amount, ok in zip(amounts, results, strict=True) if not ok]
        raise AssertionError(
            f"the balance of {start} covers all {len(amounts)} withdrawals ({sum(amounts)} in all), "
            f"yet withdraw refused {describe(refused)}"
        )
    if storage.balance != start - sum(amounts):
        raise AssertionError(
            LOST_UPDATE.format(
                count=len(amounts),
                wins=len(amounts),
                taken=sum(amounts),
                start=start,
                expected=start - sum(amounts),
                found=storage.balance,
            )
        )


@pytest.mark.task(1)
async def test_the_balance_never_goes_below_zero(ex, rng):
    amount = rng.randrange(20, 50)
    fits = rng.randint(2, 4)
    # Never exactly `fits` withdrawals' worth: a withdrawal of exactly the balance is
    # test_a_withdrawal_of_exactly_the_balance_is_paid's to judge, every run, not by chance.
    start = fits * amount + rng.randrange(1, amount)
    count = fits + 3
    storage = Storage(start)

    results = await withdraw_all(ex, storage, [amount] * count)

    wins = results.count(True)
    if wins > fits:
        raise AssertionError(
            f"{count} withdrawals of {amount} ran at the same time on a balance of {start}: only {fits} "
            f"fit, but {wins} succeeded ({wins * amount} paid out of {start}). Each withdrawal checked the "
            "balance, and before it wrote, the others checked the same, unchanged balance. Hold one "
            "shared lock from the check until the new balance is written, so the next withdrawal checks "
            "what the last one left."
        )
    if wins < fits:
        raise AssertionError(
            f"{count} withdrawals of {amount} on a balance of {start}: {fits} fit, but only {wins} succeeded"
        )
    if storage.balance != start - wins * amount:
        raise AssertionError(
            LOST_UPDATE.format(
                count=count,
                wins=wins,
                taken=wins * amount,
                start=start,
                expected=start - wins * amount,
                found=storage.balance,
            )
        )
    negative = [balance for balance in storage.written if balance < 0]
    if negative:
        raise AssertionError(f"the balance went below zero: {negative[0]} was written")


@pytest.mark.task(1)
async def test_withdrawals_from_different_accounts_do_not_wait_for_each_other(ex, rng):
    database = FakeService("database", delay=IO_DELAY)
    starts = [rng.randrange(500, 1000) for _ in range(2)]
    storages = [Storage(start, io=database) for start in starts]
    accounts = [ex.Account(storage) for storage in storages]
    amounts = [rng.randrange(10, 100) for _ in range(3)]

    await asyncio.gather(*(account.withdraw(amount) for amount in amounts for account in accounts))

    writes = [call for call in database.calls if call.args[0] == "write"]
    if len(writes) != 2 * len(amounts):
        raise AssertionError(
            f"{2 * len(amounts)} withdrawals that all fit should write the balance {2 * len(amounts)} "
            f"times, found {len(writes)} writes"
        )
    for number, (storage, start) in enumerate(zip(storages, starts, strict=True), 1):
        if storage.balance == start - sum(amounts):
            continue
        seen = (
            f"withdrawals of {amounts} were made from each of two accounts at the same time, each "
            f"account made with its own storage: account {number} started at {start} and should have "
            f"{start - sum(amounts)} left, but its storage holds {storage.balance}"
        )
        if all(len(each.written) == len(amounts) for each in storages):
            # Each storage was written once per withdrawal on it: the accounts kept apart, and the
            # withdrawals on one account overwrote each other.
            raise AssertionError(
                f"{seen}, though it was written {len(amounts)} times, once for each withdrawal. The "
                "withdrawals on one account overwrote each other: one read the balance while another "
                "was between its read and its write, and then wrote over that one's result (a lost "
                "update). Reading the balance again before writing does not close the gap: another "
                "write can land between that read and yours. Hold one lock per account, made in "
                "__init__, from the read through the write."
            )
        raise AssertionError(
            f"{seen}; its storage was written {len(storage.written)} times for the {len(amounts)} "
            "withdrawals from it, and the other account's "
            f"{len(storages[2 - number].written)} times. Each account reads and writes its own storage, "
            "the one given to its __init__ (`self.storage`): what is kept in the class body or at "
            "module level is shared by every account."
        )
    if margins.short_of(database.peak, 2, "17 withdraw: two accounts at work at once"):
        raise AssertionError(
            "withdrawals from two different accounts waited for each other: the database never saw "
            "both accounts at work at the same time. The accounts share one lock (made at module or "
            "class level?). A lock guards one thing: give each account its own, made in __init__."
        )


@pytest.mark.task(1)
@pytest.mark.parametrize("during", ["read", "write"])
async def test_a_withdrawal_cancelled_midway_leaves_the_account_usable(ex, rng, during):
    # A withdrawal is cancelled while it reads the balance, or while it writes it back (a
    # timeout, a cancelled task): the lock it holds must be given back, or every later withdrawal
    # from the account waits forever. (A learner trial's answer gave it back only when the read
    # failed: it passed while this test cancelled only the read.)
    start = rng.randrange(100, 200)
    # Two different amounts: the balance then tells whether the cancelled write landed (with
    # equal ones, the later withdrawal's write looked like it, and a correct answer failed).
    cancelled, amount = rng.sample(range(10, 50), 2)
    which = 0 if during == "read" else 1
    # The cancelled operation is long: the cancel surely lands in it.
    delays = iter([CANCELLED_READ] if during == "read" else [IO_DELAY, CANCELLED_READ])
    io = FakeService("storage", delay=lambda *args: next(delays, IO_DELAY))
    storage = Storage(start, io=io)
    account = ex.Account(storage)
    doing = "read the balance" if during == "read" else "wrote the new balance"

    run = Run(account.withdraw(cancelled))

    def cancel_it(call):
        if len(io.calls) == which + 1:
            run.cancel(f"while it {doing}")

    io.on_start = cancel_it
    if not await run.finish(HANG):
        await run.stop()
    assert_ended_after_the_cancel(
        run,
        f"withdraw({cancelled})",
        unreached="without reading the balance from storage"
        if during == "read"
        else "without writing the new balance",
    )
    async with hang_guard(
        HANG,
        "17 withdraw: a withdrawal after a cancelled one ends < HANG",
        f"withdraw({cancelled}) was cancelled while it {doing}; then withdraw({amount}) was "
        f"called, and it was still waiting {HANG} s later: the cancelled withdrawal kept the lock. A lock "
        "taken with `await lock.acquire()` and given back with `lock.release()` after the work is never "
        "given back when the work is cancelled (or raises) in between: use `async with self.lock:`, "
        "which gives it back however the block ends (or release it in a `finally:`).",
    ):
        paid = await account.withdraw(amount)

    assert_yes_or_no([paid], [amount])
    assert_same(paid, True, f"withdraw({amount}) from a balance of {start}, after a cancelled withdrawal")
    # A write cancelled on its way lands or not (the store decides): both balances are right.
    landed = len(storage.written) == 2 and storage.written[0] == start - cancelled
    assert_same(
        storage.balance,
        start - amount - (cancelled if landed else 0),
        f"the balance after withdraw({cancelled}) was cancelled and withdraw({amount}) paid",
    )


@pytest.mark.task(1)
@pytest.mark.parametrize("during", ["read", "write"])
async def test_a_read_or_write_that_raises_reaches_the_caller_and_leaves_the_account_usable(ex, rng, during):
    # The storage raises while a withdrawal reads the balance, or while it writes it back (a
    # dropped connection): the error reaches the caller, and the lock is given back, or every later
    # withdrawal from the account waits forever. (A red team's answer gave the lock back only when
    # the withdrawal was cancelled or finished: it passed while only cancels were tested.)
    start = rng.randrange(100, 200)
    failed, amount = rng.sample(range(10, 50), 2)
    error = ConnectionError(f"the storage dropped the connection during the {during}")
    failures = [error]  # the first read (or write) raises, every later one answers
    io = FakeService(
        "storage", delay=IO_DELAY, fail=lambda op, *_: failures.pop() if op == during and failures else None
    )
    storage = Storage(start, io=io)
    account = ex.Account(storage)
    raised = f"storage.{during}() raised {error!r} during withdraw({failed})"

    try:
        found = await account.withdraw(failed)
    except ConnectionError as caught:
        if not holds(caught, error):
            raise
    else:
        raise AssertionError(
            f"{raised}, but withdraw returned {describe(found)}: the error never reached the caller. "
            "Let it go on (no `try`/`except` around the read or the write that returns instead): "
            "True says the money was paid, False that the balance did not cover it, and neither is "
            "what happened."
        )
    async with hang_guard(
        HANG,
        "17 withdraw: a withdrawal after one whose storage raised ends < HANG",
        f"{raised}; then withdraw({amount}) was called, and it was still waiting {HANG} s later: the "
        "failed withdrawal kept the lock. A lock taken with `await lock.acquire()` and given back with "
        "`lock.release()` after the work, or only when the work is cancelled, is never given back when "
        "the read or the write raises: use `async with self.lock:`, which gives it back however the "
        "block ends (or release it in a `finally:`).",
    ):
        paid = await account.withdraw(amount)

    assert_yes_or_no([paid], [amount])
    assert_same(paid, True, f"withdraw({amount}) from a balance of {start}, after {raised}")
    # The failed write never landed (the storage raised before it did): the balance is the start's.
    assert_same(
        storage.balance,
        start - amount,
        f"the balance after {raised} and withdraw({amount}) paid (a failed withdrawal takes nothing)",
    )


@pytest.mark.task(1)
async def test_a_storage_that_raises_a_baseexception_leaves_the_account_usable(ex, rng):
    # "If the storage raises": whatever it raises. Cleanup under `except (Exception,
    # asyncio.CancelledError):` passes the tests of errors and cancels, and keeps the lock here.
    start = rng.randrange(100, 200)
    failed, amount = rng.sample(range(10, 50), 2)
    error = Aborted(f"the storage was shut down during the read of withdraw({failed})")
    failures = [error]
    io = FakeService("storage", delay=IO_DELAY, fail=lambda op, *_: failures.pop() if failures else None)
    storage = Storage(start, io=io)
    account = ex.Account(storage)
    raised = f"storage.read() raised {error!r} during withdraw({failed})"

    try:
        found = await account.withdraw(failed)
    except Aborted as caught:
        if not holds(caught, error):
            raise
    else:
        raise AssertionError(
            f"{raised}, but withdraw returned {describe(found)}: the error never reached the caller. "
            "Let it go on, whatever its class."
        )
    async with hang_guard(
        HANG,
        "17 withdraw: a withdrawal after one whose storage raised a BaseException ends < HANG",
        f"{raised}, a BaseException that is not an Exception (as SystemExit and KeyboardInterrupt are); "
        f"then withdraw({amount}) was called, and it was still waiting {HANG} s later: the failed "
        "withdrawal kept the lock. `except Exception` (even with asyncio.CancelledError beside it) does "
        "not catch it: use `async with self.lock:`, which gives the lock back however the block ends "
        "(or release it in a `finally:`).",
    ):
        paid = await account.withdraw(amount)

    assert_yes_or_no([paid], [amount])
    assert_same(paid, True, f"withdraw({amount}) from a balance of {start}, after {raised}")
    assert_same(storage.balance, start - amount, f"the balance after {raised} and withdraw({amount}) paid")


def fake_fetch(rng, delay, first=None):
    """A fake fetch whose every call answers with a value no other call gives.

    `given` maps each key to the values its fetches returned, in order. Its values are numbered
    from `first` (random when None): two fetches numbered far apart never give the same value.
    """
    numbers = itertools.count(rng.randrange(100, 1000) if first is None else first)
    given = {}

    def reply(key):
        value = f"{key}#{next(numbers)}"
        given.setdefault(key, []).append(value)
        return value

    return FakeService("fetch", delay=delay, reply=reply), given


def assert_fetched_once_each(fetch, keys, asked):
    for key in dict.fromkeys(keys):
        times = len([call for call in fetch.calls if call.args == (key,)])
        if times == 0:
            raise AssertionError(f"get({key!r}) never fetched {key!r}: call `await self.fetch(key)`")
        if times > 1:
            raise AssertionError(
                f"{asked[key]} gets for {key!r} ran at the same time and fetched it {times} times; it "
                "should be fetched once. Each get found the key missing, because the first fetch had "
                "not finished yet (while `await self.fetch(key)` waits, the next get runs). Make the "
                "other gets for that key wait for the first: hold a lock for the key from the check "
                "through the fetch and storing the value."
            )


@pytest.mark.task(2)
async def test_gets_at_the_same_time_fetch_a_key_once(ex, rng, wake_watch):
    key = rng.choice(WORDS)
    fetch, given = fake_fetch(rng, delay=0.05)
    cache = ex.Cache(fetch)

    async def five_gets():
        return list(await asyncio.gather(*(cache.get(key) for _ in range(5))))

    # As above: the gets that wait for the one fetch are woken by its end, not by a timer.
    fix = "Wait on the key's lock itself: `async with lock:` sleeps until the fetch is done, however long."
    async with wake_watch(ex) as wakes:
        with OwnTimersProbe(wakes, "get", fetch) as timers:
            task = asyncio.create_task(five_gets())
            results = await timers.awaited(task, fix=fix, complete=lambda found: found == given[key][:1] * 5)

    assert_fetched_once_each(fetch, [key], {key: 5})
    assert_same(results, given[key] * 5, f"the results of 5 gets for {key!r}")


@pytest.mark.task(2)
async def test_many_gets_for_a_few_keys_fetch_each_key_once(ex, rng):
    keys = rng.sample(WORDS, 3)
    asked = [rng.choice(keys) for _ in range(9)] + keys
    rng.shuffle(asked)
    fetch, given = fake_fetch(rng, delay=0.05)
    cache = ex.Cache(fetch)

    results = list(await asyncio.gather(*(cache.get(key) for key in asked)))

    assert_fetched_once_each(fetch, keys, {key: asked.count(key) for key in keys})
    assert_same(results, [given[key][0] for key in asked], f"the results of get() for {asked}")


@pytest.mark.task(2)
async def test_a_kept_value_is_returned_without_fetching_again(ex, rng):
    key = rng.choice(WORDS)
    fetch, given = fake_fetch(rng, delay=0.05)
    cache = ex.Cache(fetch)

    first = await cache.get(key)
    later = [await cache.get(key) for _ in range(3)]

    assert_same(first, given[key][0], f"the first get for {key!r}")
    assert_call_count(fetch, 1, f"{key!r} was fetched by the first get; later gets return the kept value")
    assert_same(later, [first] * 3, f"three later gets for {key!r}")


@pytest.mark.task(2)
async def test_different_keys_are_fetched_at_the_same_time(ex, rng):
    keys = rng.sample(WORDS, 4)
    fetch, _ = fake_fetch(rng, delay=FETCH_DELAY)
    cache = ex.Cache(fetch)

    with stopwatch() as run:
        await asyncio.gather(*(cache.get(key) for key in keys))

    assert_call_count(fetch, len(keys), "one fetch per key")
    if margins.short_of(fetch.peak, 2, "17 Cache.get: two keys fetched at once"):
        raise AssertionError(
            f"the fetches of {len(keys)} different keys ran one after another ({run.elapsed:.2f} s, "
            f"not about {FETCH_DELAY:.2f} s): one lock for the whole cache makes every get wait for "
            "every other key's fetch. Keep one lock per key (a dict of locks), so only gets for the "
            "same key wait for each other."
        )
    assert_ran_together(fetch, run.elapsed, expected_calls=len(keys))


@pytest.mark.stall_limit(MANY_CALLS_STALL_LIMIT)  # its calls are made in one step of the loop
@pytest.mark.task(2)
async def test_many_different_keys_are_all_fetched_at_the_same_time(ex, rng):
    # "At most 10 fetches at a time, to spare the backend" (a semaphore in the cache) passed the test
    # above, with its 4 keys, every time (a red team's; kata.testing.caps).
    count = more_than_any_cap(rng)
    keys = [f"key-{n}" for n in rng.sample(range(1000, 10_000), count)]
    fetch, given = fake_fetch(rng, delay=0.02)
    cache = ex.Cache(fetch)

    with held_until_all_in_flight(fetch, count):
        values = await asyncio.gather(*(cache.get(key) for key in keys))

    assert_no_cap_of_its_own(
        fetch,
        count,
        f"{count} gets for {count} different keys at once",
        "keys",
        "gets for different keys must not wait for each other; only gets for the same key wait, each "
        "behind that key's own lock (a lock shared by several keys, one per hash bucket say, makes "
        "them wait too)",
    )
    assert_same(values, [given.get(key, ["?"])[0] for key in keys], f"the {count} gets' values")


@pytest.mark.task(2)
async def test_keys_that_print_or_hash_alike_are_different_keys(ex, rng):
    # Keys that are not equal are different keys, however alike they print or hash: 7 and "7" print
    # alike (str), -1 and -2 have one hash (hash(-1) == hash(-2) in CPython). A red team's cache kept
    # its values by str(key), and gave "7" the value fetched for 7.
    number = rng.randrange(2, 1000)
    pairs = [[number, str(number)], [-1, -2]]
    for pair in pairs:
        rng.shuffle(pair)
    fetch, given = fake_fetch(rng, delay=0.02)
    cache = ex.Cache(fetch)

    for first, second in pairs:
        await cache.get(first)
        result = await cache.get(second)
        fetched = [call for call in fetch.calls if call.args == (second,)]
        if not fetched and first in given and result in given[first]:
            alike = "print alike" if str(first) == str(second) else f"have one hash, {hash(first)}"
            raise AssertionError(
                f"cache.get({first!r}) fetched {given[first][0]!r}; then cache.get({second!r}) returned "
                f"that same value without fetching {second!r}. {first!r} and {second!r} are different "
                f"keys ({first!r} != {second!r}), though they {alike}: the cache kept its values by "
                "something made from the key (str(key), repr(key), hash(key)). Use the key itself as "
                "the dict's key (`self.values[key]`, `self.locks[key]`)."
            )
        assert_same(
            result, given.get(second, [None])[0], f"cache.get({second!r}), after cache.get({first!r})"
        )
    assert_fetched_once_each(fetch, [key for pair in pairs for key in pair], {})


@pytest.mark.task(2)
async def test_gets_for_keys_that_hash_alike_are_fetched_at_the_same_time(ex, rng):
    # Different keys with one hash: -1 and -2 (hash(-1) == hash(-2) in CPython), and 1 and 2**61
    # (an int hashes modulo 2**61 - 1). Locks kept by something made from the key share one lock
    # between such keys, whatever else they do: by `hash(key)`, or striped (`hash(key) % 4096`, as
    # many stripes as you like). A red team's locks by hash(key) passed: the test above gets
    # hash-alike keys one after another, and the many-keys test gives string keys, whose hashes
    # share a stripe only by chance (it caught the striped locks once, with 153 keys). So every run,
    # gets for both pairs (and for a number and its text, as a third pair) are asked for at once,
    # each fetch held until all are in flight (or 1 s): each pair's fetches must run together.
    number = rng.randrange(2, 1000)
    pairs = [(-1, -2), (1, 2**61), (number, str(number))]
    keys = [key for pair in pairs for key in pair]
    rng.shuffle(keys)
    fetch, _ = fake_fetch(rng, delay=0.02)
    cache = ex.Cache(fetch)

    with held_until_all_in_flight(fetch, len(keys)):
        await asyncio.gather(*(cache.get(key) for key in keys))

    def fetched(key):
        return next((call for call in fetch.calls if call.args == (key,)), None)

    waited = []
    for first, second in pairs:
        a, b = fetched(first), fetched(second)
        if a is None or b is None:
            continue  # a key never fetched: its value is the other tests' to judge
        if not (a.start < b.end and b.start < a.end):
            waited.append(((first, a), (second, b)))
    if margins.short_of(
        len(pairs) - len(waited), len(pairs), "17 Cache.get: hash-alike keys fetched at once"
    ):
        (one, earlier), (other, later) = sorted(waited[0], key=lambda each: each[1].start)
        alike = "print alike" if str(one) == str(other) else f"have one hash ({hash(one)})"
        raise AssertionError(
            f"gets for the keys {describe(keys)} were all asked for at the same time (this test kept "
            f"each fetch going until all {len(keys)} were running, or 1 s had passed), and fetch({other!r}) "
            f"waited for fetch({one!r}): it started {later.start - earlier.start:.2f} s after it, once it "
            f"had ended. {one!r} and {other!r} are different keys ({one!r} != {other!r}), though they "
            f"{alike}: Cache.get locks something made from the key (hash(key), a stripe of locks picked "
            "by `hash(key) % n`, str(key)), so different keys share a lock and their gets wait for each "
            "other. Keep one lock per key, by the key itself: `self.locks.setdefault(key, asyncio.Lock())`."
        )


SHARED_VALUES = (
    "two caches, each made with its own fetch: cache_a = Cache(fetch_a) and cache_b = "
    "Cache(fetch_b). {story} The caches share the values they keep: a dict made in the class body "
    "(`values = {{}}` under `class Cache:`) or at module level is one dict for every Cache. Make "
    "each cache's own in __init__: `self.values = {{}}` (and `self.locks = {{}}`)."
)


def assert_own_value(name, key, result, own, other, shared_only=False):
    """`result` of `name`.get(key) is the value its own fetch gave for the key (`own`), not one of
    the other cache's (`other`); both map each key to the values their fetch gave. With
    `shared_only`, only that it is not one of the other cache's."""
    if key in own and result == own[key][0]:
        return
    other_fetch = "fetch_b" if name == "cache_a" else "fetch_a"
    if key in other and result in other[key]:
        asked = (
            f"{name}'s own fetch was never asked for {key!r}"
            if key not in own
            else f"{name}'s own fetch gave {own[key][0]!r}"
        )
        raise AssertionError(
            SHARED_VALUES.format(
                story=f"{name}.get({key!r}) returned {result!r}, the value {other_fetch} gave (the "
                f"other cache's fetch), and {asked}."
            )
        )
    if shared_only:
        return
    if key not in own:
        raise AssertionError(
            f"{name}.get({key!r}) returned {describe(result)} and never fetched {key!r}: call "
            "`await self.fetch(key)`, the fetch this cache was made with"
        )
    assert_same(result, own[key][0], f"{name}.get({key!r}), the value {name}'s own fetch gave")


@pytest.mark.task(2)
async def test_each_cache_keeps_its_own_values(ex, rng):
    first_key, second_key = rng.sample(WORDS, 2)
    # Only the fetches asked for at the same time need to take a while (to be seen overlapping).
    delay = lambda key: FETCH_DELAY if key == second_key else SHORT_FETCH_DELAY  # noqa: E731
    fetch_a, given_a = fake_fetch(rng, delay=delay, first=rng.randrange(100, 400))
    fetch_b, given_b = fake_fetch(rng, delay=delay, first=rng.randrange(600, 900))
    caches = {"cache_a": ex.Cache(fetch_a), "cache_b": ex.Cache(fetch_b)}
    given = {"cache_a": given_a, "cache_b": given_b}

    def check(name, key, result, shared_only=False):
        other = given["cache_b" if name == "cache_a" else "cache_a"]
        assert_own_value(name, key, result, given[name], other, shared_only)

    # One after another: a key cache_a has kept is new to cache_b.
    for name in caches:
        check(name, first_key, await caches[name].get(first_key))
    # At the same time, interleaved: each cache fetches the key once, and neither waits for the other.
    asked = ["cache_a", "cache_b", "cache_a", "cache_b"]
    results = await asyncio.gather(*(caches[name].get(second_key) for name in asked))
    for name, result in zip(asked, results, strict=True):
        check(name, second_key, result, shared_only=True)
    for name, fetch in (("cache_a", fetch_a), ("cache_b", fetch_b)):
        assert_fetched_once_each(fetch, [first_key, second_key], {first_key: 1, second_key: 2})
        assert_call_count(fetch, 2, f"{name} fetched {first_key!r} once and {second_key!r} once")
    for name, result in zip(asked, results, strict=True):
        check(name, second_key, result)
    # Later: each cache still returns its own kept value, without fetching again.
    for name in caches:
        check(name, first_key, await caches[name].get(first_key))
    assert_call_count(fetch_a, 2, "cache_a returns the value it kept without fetching again")
    assert_call_count(fetch_b, 2, "cache_b returns the value it kept without fetching again")

    [call_a] = [call for call in fetch_a.calls if call.args == (second_key,)]
    [call_b] = [call for call in fetch_b.calls if call.args == (second_key,)]
    together = 2 if call_a.start < call_b.end and call_b.start < call_a.end else 1
    if margins.short_of(together, 2, "17 Cache.get: two caches fetch one key at once"):
        (first, one), (then, other) = sorted(
            [(call_a, "cache_a"), (call_b, "cache_b")], key=lambda c: c[0].start
        )
        raise AssertionError(
            f"cache_a and cache_b were asked for {second_key!r} at the same time, and {other}'s fetch "
            f"waited for {one}'s: it started {then.start - first.start:.2f} s after it, once it had "
            f"ended (a fetch takes {FETCH_DELAY:.2f} s). The two caches share their locks: a dict of "
            "locks made in the class body (`locks = {}` under `class Cache:`) or at module level is "
            "one dict for every Cache. Make each cache's own in __init__, `self.locks = {}`."
        )


# A value fetch may return that is falsy: a kept one is a value like any other.
FALSY_VALUES = [0, "", [], False, None]


@pytest.mark.task(2)
@pytest.mark.parametrize("value", FALSY_VALUES, ids=["zero", "empty_text", "empty_list", "false", "none"])
async def test_a_kept_falsy_value_is_returned_without_fetching_again(ex, rng, value):
    key = rng.choice(WORDS)
    fetch = FakeService("fetch", delay=0.02, reply=lambda key: value)
    cache = ex.Cache(fetch)

    results = [await cache.get(key) for _ in range(3)]

    assert_same(results, [value] * 3, f"three gets for {key!r}, whose fetch returns {value!r}")
    times = len(fetch.calls)
    if times != 1:
        raise AssertionError(
            f"fetch({key!r}) returned {value!r}, and three gets for {key!r}, one after another, fetched "
            f"it {times} times: Cache.get took the kept value {value!r} for a missing one. "
            f"{value!r} is a value like any other, and the docstring asks to return the kept value "
            "without fetching again. Ask whether the key is kept (`if key not in self.values:`), not "
            "whether its value is truthy (`if not self.values.get(key):`)."
        )


class Unavailable(Exception):
    """The fetch's error in these tests."""


@pytest.mark.task(2)
async def test_an_error_of_fetch_reaches_the_get_and_nothing_is_kept(ex, rng):
    key = rng.choice(WORDS)
    error = Unavailable(f"the store holding {key!r} is down, try again later")
    failures = [error]  # the first fetch fails, the next one answers
    fetch, given = fake_fetch(rng, delay=0.02)
    fetch.fail = lambda key: failures.pop() if failures else None
    cache = ex.Cache(fetch)

    try:
        found = await cache.get(key)
    except Unavailable as raised:
        if not holds(raised, error):
            raise
    else:
        raise AssertionError(
            f"fetch({key!r}) raised {error!r}, but Cache.get({key!r}) returned {describe(found)}: the "
            "error never reached the caller. Let it go on: no `try`/`except` around "
            "`await self.fetch(key)` that keeps or returns something else instead."
        )
    later = await cache.get(key)

    times = len(fetch.calls)
    if times != 2:
        raise AssertionError(
            f"the first fetch({key!r}) raised {error!r} and Cache.get({key!r}) let it reach the caller, "
            f"but the next get for {key!r} fetched {times - 1} times (it should fetch again, once) and "
            f"returned {describe(later)}: nothing was fetched the first time, so there is nothing to "
            "keep. Keep a value only when fetch returns one (no value kept, no error kept for the key)."
        )
    assert_same(later, given[key][0], f"the next get for {key!r}, after the failed one")


@pytest.mark.task(2)
async def test_a_fetch_that_raises_a_baseexception_reaches_the_get_and_nothing_is_kept(ex, rng):
    # "If fetch raises": whatever it raises. A future per key, or a shared task, cleaned up under
    # `except Exception` (and `except asyncio.CancelledError`) keeps what it made for the key: the
    # next get waits forever for a future nobody resolves, or raises the old error without fetching
    # (a red team's answer and a recorded correct one did).
    key = rng.choice(WORDS)
    error = Aborted(f"the fetch of {key!r} was shut down")
    failures = [error]  # the first fetch raises, the next one answers
    fetch, given = fake_fetch(rng, delay=0.02)
    fetch.fail = lambda key: failures.pop() if failures else None
    cache = ex.Cache(fetch)
    raised = f"fetch({key!r}) raised {error!r}, a BaseException that is not an Exception (as SystemExit is)"

    try:
        found = await cache.get(key)
    except Aborted as caught:
        if not holds(caught, error):
            raise
    else:
        raise AssertionError(
            f"{raised}, but Cache.get({key!r}) returned {describe(found)}: the error never reached the "
            "caller. Let it go on, whatever its class."
        )
    async with hang_guard(
        HANG,
        "17 Cache.get: a get after a fetch that raised a BaseException ends < HANG",
        f"{raised}; the next get for {key!r} was still waiting {HANG} s later: it waits for what the "
        "failed get left for the key (a future nobody will resolve). `except Exception` does not catch "
        "this error: forget what you made for the key in a `finally:` block (or `except BaseException:` "
        "and `raise`), or hold a lock per key with `async with`.",
    ):
        try:
            later = await cache.get(key)
        except Aborted as caught:
            if not holds(caught, error):
                raise
            again = len(fetch.calls) - 1
            raise AssertionError(
                f"{raised}; the next get for {key!r} raised that same error again, "
                f"{'without fetching' if again == 0 else f'after {again} more fetches'}: the failed "
                "fetch was kept for the key. Keep nothing "
                "when fetch raises, whatever its class: `except Exception` does not catch this one, so "
                "forget the key's task or future in a `finally:` block (or `except BaseException:` and "
                "`raise`)."
            ) from None

    times = len(fetch.calls)
    if times != 2:
        raise AssertionError(
            f"{raised}, and the next get for {key!r} fetched {times - 1} times (it should fetch again, "
            f"once) and returned {describe(later)}: keep nothing for the key when fetch raises."
        )
    assert_same(later, given[key][0], f"the next get for {key!r}, after the failed one")


@pytest.mark.task(2)
async def test_gets_waiting_for_a_fetch_that_raises_end_with_its_error_or_a_value_fetched_again(ex, rng):
    # 3 gets for one key at once, and the fetch raises (the first time only). The docstring leaves
    # the gets that waited two ways: its error reaches them too, or one of them fetches again (as a
    # lock per key does), and a get that asks meanwhile waits for that fetch. Either way every get
    # ends, with that error or a value fetch gave, and the key is never fetched twice at once. A
    # learner trial's answers left the waiting gets hanging, returned None to them, or let a get
    # that asked meanwhile fetch alongside the second fetch (its lock had been thrown away).
    key = rng.choice(WORDS)
    error = Unavailable(f"the store holding {key!r} is down, try again later")
    failures = [error]
    fetch, given = fake_fetch(rng, delay=SHORT_FETCH_DELAY)
    fetch.fail = lambda key: failures.pop() if failures else None
    cache = ex.Cache(fetch)
    late = []

    def ask_meanwhile(call):
        if len(fetch.calls) == 2:  # a second fetch: one more get asks while it runs
            late.append(asyncio.ensure_future(cache.get(key)))

    fetch.on_start = ask_meanwhile
    async with hang_guard(
        HANG,
        "17 Cache.get: gets waiting for a fetch that raises end < HANG",
        f"3 gets for {key!r} ran at the same time and fetch({key!r}) raised {error!r}; {HANG} s later "
        "some of them had still not ended. The gets that waited for that fetch wait forever: when it "
        "raises, let them know (its error for them too, or wake them so that one fetches again; a lock "
        "per key held with `async with` does that by itself).",
    ):
        ended = await asyncio.gather(*(cache.get(key) for _ in range(3)), return_exceptions=True)
        ended += await asyncio.gather(*late, return_exceptions=True)

    values = given.get(key, [])
    for n, result in enumerate(ended):
        who = f"get number {n + 1}" if n < 3 else "a get that asked during the second fetch"
        if isinstance(result, BaseException) and holds(result, error):
            continue
        if isinstance(result, BaseException):
            raise result
        if result not in values:
            raise AssertionError(
                f"3 gets for {key!r} ran at the same time and fetch({key!r}) raised {error!r}; {who} "
                f"returned {describe(result)}, which fetch never gave (it gave {values}). A get that "
                "waited for a fetch that raised should raise that error too, or fetch again: a value "
                "it never got is not the key's value."
            )
    starts = sorted(fetch.calls, key=lambda call: call.start)
    for earlier, later in itertools.pairwise(starts):
        if later.start < earlier.end:
            raise AssertionError(
                f"3 gets for {key!r} ran at the same time and fetch({key!r}) raised {error!r}; then "
                f"fetch({key!r}) ran twice at the same time ({len(fetch.calls)} fetches in all). After "
                "a failed fetch every get for the key must still go through the one lock (or future) for "
                "the key: one that is thrown away once used lets a get that asks meanwhile make a new "
                "one and fetch alongside the get that fetches again. Keep one lock per key for good."
            )


async def gets_with_one_cancelled(ex, rng, cancelled):
    """Start 4 gets of one key, the first alone (it surely starts the fetch), cancel the one
    numbered `cancelled` while the fetch runs (it is held until the cancel has landed); return the
    key, the fetch, what it gave, how each get ended (its value, or the exception it raised), and
    the cancelled one's run."""
    key = rng.choice(WORDS)
    fetch, given = fake_fetch(rng, delay=SHORT_FETCH_DELAY)
    fetching, let_answer = asyncio.Event(), asyncio.Event()
    fetch.on_start = lambda call: fetching.set()
    fetch.hold = lambda call: let_answer if call is fetch.calls[0] else None
    cache = ex.Cache(fetch)

    gets = [Run(cache.get(key))]
    started = asyncio.create_task(fetching.wait())
    async with hang_guard(
        HANG,
        "17 Cache.get: the first get starts its fetch < HANG",
        f"the first get for {key!r} did not call fetch({key!r}) within {HANG} s",
    ):
        await asyncio.wait([started, gets[0].task], return_when=asyncio.FIRST_COMPLETED)
    if not fetching.is_set():  # the get ended first: its error is the mistake (a stub's, say)
        started.cancel()
        value = gets[0].task.result()
        raise AssertionError(
            f"the first get for {key!r}, on a new Cache, returned {describe(value)} without "
            f"calling fetch({key!r}): a key nobody fetched yet must be fetched"
        )
    gets += [Run(cache.get(key)) for _ in range(3)]
    await let_the_code_run(WAITING)  # the others are waiting for the fetch now
    gets[cancelled].cancel(f"while fetch({key!r}) ran")
    await let_the_code_run(WAITING)  # the cancel has landed, and what it set going has run
    let_answer.set()
    async with hang_guard(
        HANG + SHORT_FETCH_DELAY,
        "17 Cache.get: gets end < HANG after one is cancelled",
        f"after one of 4 gets for {key!r} was cancelled, the others did not return within "
        f"{HANG + SHORT_FETCH_DELAY:.1f} s",
    ):
        ended = await asyncio.gather(*(get.task for get in gets), return_exceptions=True)
    return key, fetch, given, ended, gets[cancelled]


@pytest.mark.task(2)
@pytest.mark.parametrize("cancelled", [0, 2], ids=["the_fetching_get", "a_waiting_get"])
async def test_cancelling_one_get_leaves_the_others_to_return_the_value(ex, rng, cancelled):
    # Decided: when the get that fetches is cancelled, its fetch may be cancelled with it, and then
    # one of the others fetches again (as the lock per key does); or the fetch may go on for the
    # others. Either way the others return one same value, and fetch runs at most twice. When a
    # waiting get is cancelled, the fetch is not disturbed: it runs once.
    key, fetch, given, ended, run = await gets_with_one_cancelled(ex, rng, cancelled)

    which = "the first get (the one fetching)" if cancelled == 0 else f"get number {cancelled + 1}"
    others = [result for n, result in enumerate(ended) if n != cancelled]
    hurt = [result for result in others if isinstance(result, BaseException)]
    if hurt:
        raise AssertionError(
            f"4 gets for {key!r} ran at the same time and {which} was cancelled while fetch({key!r}) "
            f"ran; {len(hurt)} of the other 3 then raised {hurt[0]!r} instead of returning the value, "
            "though nobody cancelled them. The docstring asks that the others wait for the fetch and "
            "return the same value. Cancelling a get cancels what it awaits: a task shared by every "
            "get for the key (`await self.tasks[key]`) or a future the fetching get cancels ends for "
            "them all. Let each get wait on its own (a lock per key: the next get fetches if the "
            "fetching one was cancelled), or shield what they share (`await asyncio.shield(task)`)."
        )
    assert_ended_cancelled(
        run,
        f"the first Cache.get({key!r}) (the one fetching)"
        if cancelled == 0
        else f"Cache.get({key!r}) number {cancelled + 1}",
        unreached=f"before fetch({key!r}) had returned",
        cancel_advice="Only the gets nobody cancelled return the value.",
    )
    if len(set(map(repr, others))) != 1 or others[0] not in given.get(key, []):
        raise AssertionError(
            f"the 3 gets for {key!r} that were not cancelled returned {describe(others)}; each "
            f"should return the same value, the one fetch({key!r}) gave (it gave {given.get(key, [])})"
        )
    most = 2 if cancelled == 0 else 1
    times = len(fetch.calls)
    if times > most:
        raise AssertionError(
            f"4 gets for {key!r} ran at the same time and {which} was cancelled: fetch({key!r}) ran "
            f"{times} times, {most} at most expected"
            + (
                ""
                if cancelled == 0
                else " (a get that only waits for the fetch, cancelled, should leave the fetch alone)"
            )
        )
