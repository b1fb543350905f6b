"""Counted nouns for operators' messages: "1 row", "2 rows", never "1 rows"."""

from __future__ import annotations


def counted(count: int, singular: str, plural: str = "") -> str:
    """Return ``count`` with its noun: ``counted(1, "row")`` is "1 row", 2 gives "2 rows"."""
    return f"{count} {singular if count == 1 else plural or singular + 's'}"
