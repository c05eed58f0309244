"""Counts in plain words: `1 submission`, `2 submissions`, the same way in every message."""

from __future__ import annotations


def many(count: int, one: str, more: str | None = None) -> str:
    """`count` and the noun that fits it: `many(1, "call")` is "1 call", `many(3, "call")` "3 calls";
    `more` names the plural where adding an s would not (`many(2, "copy", "copies")`)."""
    return f"{count} {one if count == 1 else more or one + 's'}"
