"""Replies with text outside ASCII sent as raw UTF-8, and the check that learner code read them as sent.

`LoopbackServer.serve(json=...)` (aiohttp's web.json_response) escapes such text (`"Jos\\u00e9"`),
which reads back right whatever charset the client decodes the body with. `utf8_json` sends the
bytes themselves, as most servers do, and says so in the Content-Type: a body decoded by a charset
of the learner's own (latin-1, say) then garbles every letter outside ASCII, and
`assert_text_as_sent` names that mistake.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from kata.testing import assert_same
from kata.testing.server import Reply

UTF8_JSON_TYPE = "application/json; charset=utf-8"
MISREAD_AS = ("latin-1", "cp1252", "ascii")  # the charsets a learner's own decoding most often uses


def utf8_json(body: Any, **fields: Any) -> Reply:
    """A Reply of the JSON `body` with its text outside ASCII as raw UTF-8 (not `\\u` escapes)."""
    text = json.dumps(body, ensure_ascii=False)
    return Reply(text=text, headers={"Content-Type": UTF8_JSON_TYPE}, **fields)


def misread_text(found: Any, expected: Any) -> tuple[str, str] | None:
    """(sent, found) for the first string outside ASCII in `expected` that `found` holds otherwise."""
    if isinstance(expected, str):
        if isinstance(found, str) and found != expected and not expected.isascii():
            return expected, found
        return None
    if isinstance(expected, dict) and isinstance(found, dict):
        pairs = [(found.get(key), value) for key, value in expected.items()]
    elif isinstance(expected, list) and isinstance(found, list) and len(found) == len(expected):
        pairs = list(zip(found, expected, strict=True))
    else:
        return None
    return next(filter(None, (misread_text(f, e) for f, e in pairs)), None)


def assert_text_as_sent(
    found: Any, expected: Any, what: str, then: Callable[[Any, Any, str], None] = assert_same
) -> None:
    """`then(found, expected, what)` (assert_same, or a test file's own check), with a body decoded
    by another charset than the reply's spelled out first."""
    misread = misread_text(found, expected)
    if misread:
        sent, got = misread
        charset = next((cs for cs in MISREAD_AS if sent.encode().decode(cs, errors="replace") == got), None)
        how = f"decoded as {charset}" if charset else "decoded with another charset than the reply's"
        raise AssertionError(
            f"the server sent {sent!r} in UTF-8, and said so in its Content-Type ({UTF8_JSON_TYPE!r}), "
            f"and {what} holds {got!r} in its place: the body's bytes were {how}. Let aiohttp decode "
            "the body by the charset of the reply: `await response.json()` does (and so does "
            "`await response.text()`); a charset of your own garbles every letter outside ASCII."
        )
    then(found, expected, what)
