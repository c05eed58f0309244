"""The scan prices every expression it works out before working it out (kata.batch.costs).

The scan evaluates constant expressions, even under `if False:`, to see code hidden in pieces.
Its budgets capped steps and result sizes, not what one step costs: one punycode call on 20,000
characters took 52 s here (quadratic), a hundred `str.translate` calls through a table that maps
one character to 999 took 25 s, and one through a table mapping it to 200,000 characters grew
until it hit a 4 GB limit. Now each operation's output is estimated from its inputs before it is
done, refused when too big, and charged to the file's budget; a file that uses its budget up is
scanned no further and says so.
"""

import base64
import codecs
import time
import tracemalloc
import zlib

import pytest

from kata.batch import costs, folding
from kata.batch.scan import scan_files

# Seconds of CPU (not of the wall clock: the self-check runs 12 jobs on 2 cores): each of these
# took from 3 s to minutes before; a priced scan takes at most about half a second.
CPU_SECONDS = 2.0
PEAK_BYTES = 100 * 1024 * 1024
HIDDEN = "if False:  # never runs\n"


def hidden(*lines: str) -> bytes:
    return (HIDDEN + "".join(f"    {line}\n" for line in lines)).encode()


BOMBS = {
    "punycode, quadratic": hidden('_k = "".join(map(chr, range(0x4E00, 0x4E00 + 8_000))).encode("punycode")'),
    "idna, quadratic": hidden('_k = "".join(map(chr, range(0x4E00, 0x4E00 + 8_000))).encode("idna")'),
    "translate to 999 characters, 20 times": hidden(
        '_t = str.maketrans({"a": "b" * 999})',
        '_s = "a" * 200000',
        *(f"_x{i} = _s.translate(_t)" for i in range(20)),
    ),
    "translate to 200,000 characters": hidden(
        '_t = str.maketrans({"a": "b" * 200000})', '_x = ("a" * 200000).translate(_t)'
    ),
    "expandtabs": hidden('_x = ("\\t" * 200000).expandtabs(999)'),
    "a format field used 1,000 times": hidden('_x = ("{0}" * 1000).format("a" * 199999)'),
    "a %-key used 1,000 times": hidden('_x = ("%(a)s" * 1000) % {"a": "a" * 199999}'),
    "a list of 200,000 long strings": hidden(
        '_s = "a" * 199999', '_x = list(map(lambda c: _s + "b", range(200000)))'
    ),
    "a %-format of a flag run": hidden('_y = ("%" + "0" * 199990 + "!") % unknown'),
    "strip with a long set of characters": hidden(
        '_s = "a" * 200000', '_c = "b" * 199999 + "a"', *(f"_y{i} = _s.strip(_c)" for i in range(20))
    ),
    "a long string named on every line": hidden('_s = "/proc/" + "a" * 199990', *["_s; _s; _s; _s"] * 5000),
    "a long string with an unknown piece, many times": hidden(
        '_s = "a" * 199999', *(f"_y{i} = _s + unknown" for i in range(3000))
    ),
    "a long list compared many times": hidden(
        '_s = "a" * 199999', '_l = [_s + "b"] * 100', *(f"_y{i} = (_s + 'c') in _l" for i in range(300))
    ),
    "a list joined many times": hidden('_l = ["a"] * 200000', *(f"_y{i} = ''.join(_l)" for i in range(300))),
    "exec calls that each follow every binding": ("x = 1\n" * 5000 + "exec(x)\n" * 3000).encode(),
}


MEMORY_BOMBS = [
    "translate to 200,000 characters",
    "expandtabs",
    "a format field used 1,000 times",
    "a %-key used 1,000 times",
    "a list of 200,000 long strings",
]


@pytest.mark.parametrize("source", list(BOMBS.values()), ids=list(BOMBS))
def test_a_constant_expression_too_costly_to_work_out_is_refused_before_it_is_computed(source):
    started = time.process_time()
    flags = scan_files({"01_coroutines": source})
    used = time.process_time() - started
    assert used < CPU_SECONDS, f"the scan took {used:.1f} s of CPU"
    assert all(flag.startswith("01_coroutines.py") for flag in flags), flags


@pytest.mark.parametrize("name", MEMORY_BOMBS)
def test_a_constant_expression_that_would_take_gigabytes_is_never_built(name):
    tracemalloc.start()
    try:
        scan_files({"01_coroutines": BOMBS[name]})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < PEAK_BYTES, f"the scan needed {peak / 2**20:.0f} MB"


def test_a_file_that_uses_up_its_budget_keeps_its_earlier_flags_and_says_it_was_scanned_in_part():
    source = b"import os\nos._exit(0)\n" + BOMBS["a list joined many times"]
    flags = scan_files({"01_coroutines": source})
    assert "01_coroutines.py:2 ends the test process (os._exit)" in flags
    assert "01_coroutines.py: could not be scanned whole (too much to work out): worth a look" in flags


def test_each_exercise_file_has_a_budget_of_its_own():
    spender = BOMBS["a list joined many times"]
    flags = scan_files({"01_coroutines": spender, "02_gather": b"import os\nos._exit(0)\n"})
    assert "02_gather.py:2 ends the test process (os._exit)" in flags
    assert not any(flag.startswith("02_gather.py: could not be scanned") for flag in flags), flags


PAYLOAD = "import os\nos._exit(0)\n" + "# padding\n" * 3_000  # 30 KB of code, hidden as students hide it
HIDDEN_PAYLOADS = {
    "zlib and base64": (
        "import base64, zlib\n"
        f"exec(zlib.decompress(base64.b64decode({base64.b64encode(zlib.compress(PAYLOAD.encode()))!r})))\n"
    ),
    "base85": f"import base64\nexec(base64.b85decode({base64.b85encode(PAYLOAD.encode())!r}))\n",
    "hex": f"exec(bytes.fromhex({PAYLOAD.encode().hex()!r}))\n",
    "rot13": f"import codecs\nexec(codecs.decode({codecs.encode(PAYLOAD, 'rot13')!r}, 'rot13'))\n",
    "character codes": f"exec(bytes({list(PAYLOAD.encode())!r}))\n",
    "chr of each code": f"exec(''.join(map(chr, {list(PAYLOAD.encode())!r})))\n",
    "xor in a comprehension": f"exec(bytes([c ^ 42 for c in {bytes(b ^ 42 for b in PAYLOAD.encode())!r}]))\n",
    "punycode, short": "exec(b'import os; os._exit(0) -'.decode('punycode'))\n",
    "unicode escapes": f"exec({PAYLOAD.encode('unicode_escape')!r}.decode('unicode_escape'))\n",
}


@pytest.mark.parametrize("source", list(HIDDEN_PAYLOADS.values()), ids=list(HIDDEN_PAYLOADS))
def test_code_hidden_the_usual_ways_is_still_worked_out_and_named(source):
    flags = scan_files({"01_coroutines": source.encode()})
    assert any("the code it runs ends the test process (os._exit)" in flag for flag in flags), flags


def test_every_operation_the_folder_computes_has_a_cost_estimate():
    """A function or method added to kata.batch.folding without a bound in kata.batch.costs would be
    refused everywhere (NoEstimate): this says which."""
    missing = [
        name
        for name in folding._FUNCTIONS
        if not any(has_estimate(costs.function_cost, name, [sample], {}, 10) for sample in SAMPLES)
    ]
    missing += [
        f".{method}"
        for method in folding._STR_METHODS
        if not any(has_estimate(costs.method_cost, sample, method, [], {}) for sample in SAMPLES)
    ]
    assert missing == []


SAMPLES = [b"ab", "ab", 1]


def has_estimate(estimate, *args) -> bool:
    try:
        estimate(*args)
    except costs.NoEstimate:
        return False
    except Exception:  # refused for this input, or not an input it takes: it has an estimate
        return True
    return True
