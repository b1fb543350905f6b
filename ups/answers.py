"""Safe reading of UPS's JSON answers: a missing or odd field is a MalformedAnswer.

Parsers never index a dict blindly, so a surprising answer becomes a clear
error of the right kind (see ``ups.classify``), never a KeyError.
"""

from __future__ import annotations

from typing import Any

from shipops.money import cents_from_decimal_string


class MalformedAnswer(Exception):
    """A success answer from UPS lacks a field the client needs, or has it in a wrong shape."""


def dig(data: Any, *path: str | int) -> Any:
    """Return the value at ``path`` (keys and indexes), raising MalformedAnswer if absent."""
    current = data
    for step in path:
        if isinstance(step, int):
            items = as_list(current)
            if step >= len(items):
                raise MalformedAnswer(f"{_dotted(path)} is missing")
            current = items[step]
        elif isinstance(current, dict) and step in current:
            current = current[step]
        else:
            raise MalformedAnswer(f"{_dotted(path)} is missing")
    return current


def optional(data: Any, *path: str | int) -> Any:
    """Return the value at ``path``, or None when any step is absent."""
    try:
        return dig(data, *path)
    except MalformedAnswer:
        return None


def text(data: Any, *path: str | int) -> str:
    """Return the string at ``path``; anything else is a MalformedAnswer."""
    value = dig(data, *path)
    if not isinstance(value, str):
        raise MalformedAnswer(f"{_dotted(path)} is not text")
    return value


def as_list(value: Any) -> list[Any]:
    """Return ``value`` as a list: UPS sends one item as an object and several as an array."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def cents(data: Any, *path: str | int) -> tuple[int, str]:
    """Return ``(cents, currency)`` from a ``{CurrencyCode, MonetaryValue}`` object."""
    charge = dig(data, *path)
    try:
        amount = cents_from_decimal_string(text(charge, "MonetaryValue"))
    except ValueError:
        raise MalformedAnswer(f"{_dotted(path)}.MonetaryValue is not an amount") from None
    return amount, text(charge, "CurrencyCode")


def _dotted(path: tuple[str | int, ...]) -> str:
    return ".".join(str(step) for step in path)
