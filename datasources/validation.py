"""Row validation: per-row errors an operator can act on, and the checks shared by fields."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

MAX_NAME = 35  # UPS: names, address lines and references hold 35 characters
MAX_CITY = 30
MAX_EMAIL = 50
MAX_KEY = 255  # a job stores each row's order key in at most 255 characters
MAX_GIRTH_IN = Decimal(165)
MAX_SIDE_IN = Decimal(108)
SHOWN_VALUE = 40
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
EXTENSION_RE = re.compile(r"\s*(?:x|ext\.?|extension|#)\s*\d+\s*$", re.IGNORECASE)
PHONE_RE = re.compile(r"^\+?[\d\s().\-/]+$")


@dataclass(frozen=True)
class RowError:
    """One problem with one row: the source column, the shipment field, an operator sentence."""

    column: str
    field: str
    message: str

    def to_json(self) -> dict[str, str]:
        """Return the error as stored on a JobRow."""
        return {"column": self.column, "field": self.field, "message": self.message}


class Invalid(ValueError):
    """A value broke a rule; ``problem`` completes 'Column "x": "value" <problem>.'."""

    def __init__(self, problem: str):
        super().__init__(problem)
        self.problem = problem


def shown(value: str) -> str:
    """Return a value shortened for a message."""
    value = value.replace("\r", " ").replace("\n", " ")
    return value if len(value) <= SHOWN_VALUE else value[: SHOWN_VALUE - 1] + "…"


def value_error(column: str, field: str, value: str, problem: str) -> RowError:
    """Return the RowError for a value that broke a rule."""
    return RowError(column, field, f'Column "{column}": "{shown(value)}" {problem}.')


def key_error(key: str, column: str) -> RowError:
    """Return the error for an order key longer than MAX_KEY, too long for a job to store."""
    where = f'column "{column}"' if column else "the key column"
    return RowError(
        column,
        "key",
        f'The key "{shown(key)}" in {where} is {len(key):,} characters long; ShipOps keeps '
        f"keys of at most {MAX_KEY} characters, so this order cannot ship until its key is "
        "shortened in the source.",
    )


def clean_text(value: str, *, limit: int) -> str:
    """Collapse inner whitespace and refuse text longer than ``limit`` characters."""
    text = " ".join(value.split())
    if len(text) > limit:
        raise Invalid(f"is {len(text):,} characters long; UPS accepts at most {limit}")
    return text


def clean_phone(value: str, *, country: str) -> str:
    """Return the phone number's digits (an extension is dropped); US numbers have 10 digits."""
    text = EXTENSION_RE.sub("", value.strip())
    if not PHONE_RE.match(text):
        raise Invalid("is not a phone number")
    digits = re.sub(r"\D", "", text)
    if country in {"US", "PR", "CA"}:
        if len(digits) == 11 and digits.startswith("1"):
            digits = digits[1:]
        if len(digits) != 10:
            raise Invalid("is not a phone number (10 digits, area code first)")
    elif not 7 <= len(digits) <= 15:
        raise Invalid("is not a phone number (7 to 15 digits)")
    return digits


def clean_email(value: str) -> str:
    """Return the address if it looks like one and fits UPS's 50 characters."""
    text = value.strip()
    if not EMAIL_RE.match(text):
        raise Invalid("is not an email address")
    if len(text) > MAX_EMAIL:
        raise Invalid(f"is longer than the {MAX_EMAIL} characters UPS accepts")
    return text


def check_size(length: Decimal, width: Decimal, height: Decimal) -> str:
    """Return the problem with a package's size in inches, or "" when UPS accepts it."""
    longest, *others = sorted((length, width, height), reverse=True)
    if longest > MAX_SIDE_IN:
        return f"the longest side is {longest} in; UPS accepts at most {MAX_SIDE_IN} in"
    girth = longest + 2 * sum(others, Decimal(0))
    if girth > MAX_GIRTH_IN:
        return (
            f"length plus girth is {longest} + 2 x ({others[0]} + {others[1]}) = {girth} in; "
            f"UPS accepts at most {MAX_GIRTH_IN} in"
        )
    return ""
