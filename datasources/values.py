"""Turn a cell or column value (Excel, database) into the text a row carries."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from decimal import Decimal

# Excel shows 15 significant digits; beyond that a float is noise (0.1 + 0.2).
FLOAT_DIGITS = 15


def number_text(value: int | float | Decimal) -> str:
    """Return a number as plain decimal text: 30303.0 -> "30303", 2.50 -> "2.5", no exponent."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        value = Decimal(format(value, f".{FLOAT_DIGITS}g"))
    if not value.is_finite():
        return str(value)
    text = format(value.normalize(), "f")
    return "0" if text in {"-0", "0"} else text


def datetime_text(value: dt.datetime | dt.date | dt.time) -> str:
    """Return a date or time as ISO 8601: a midnight datetime without zone is a plain date."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None and value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat()
    return value.isoformat()


def value_text(value: object) -> str:
    """Return the normalised text of any value a workbook or database gives back."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool | int | float | Decimal):
        return number_text(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return datetime_text(value)
    if isinstance(value, dt.timedelta):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, uuid.UUID):
        return str(value)
    return str(value).strip()
