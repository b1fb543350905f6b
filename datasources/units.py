"""Weights and lengths with units: lb, oz, kg and in, cm, converted to pounds and inches."""

from __future__ import annotations

import re
from decimal import ROUND_UP, Decimal, InvalidOperation

from datasources.headers import UNIT_WORDS
from datasources.validation import Invalid

TENTH = Decimal("0.1")
MAX_WEIGHT_LBS = Decimal(150)
TO_POUNDS = {"lb": Decimal(1), "oz": Decimal(1) / Decimal(16), "kg": Decimal("2.20462262185")}
TO_INCHES = {"in": Decimal(1), "cm": Decimal(1) / Decimal("2.54")}
# Matched against the stripped value: no optional whitespace at either end to backtrack over.
QUANTITY_RE = re.compile(r"(?P<number>[+-]?[\d.,]*\d)?\s*(?P<unit>[A-Za-z\"#.]*)")
# The forms a number may take: 2.5, .5; 1,250.5 (thousands); 2,5 and 12,50 (a decimal
# comma, as in a semicolon file from a European Excel). "1,250" could be either.
PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d+)?|\.\d+)")
GROUPED_NUMBER = re.compile(r"[+-]?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?")
DECIMAL_COMMA_NUMBER = re.compile(r"[+-]?\d+,\d+")
AMBIGUOUS_NUMBER = re.compile(r"[+-]?[1-9]\d{0,2},\d{3}")


def _number(text: str, kind: str) -> str:
    """Return ``text`` as a number Decimal reads: "1,250.5" -> "1250.5", "2,5" -> "2.5"."""
    if AMBIGUOUS_NUMBER.fullmatch(text):
        whole, part = text.split(",")
        raise Invalid(
            f"could mean {whole}{part} or, with a decimal comma, {whole}.{part}; "
            f"write {whole}{part} or {whole}.{part}"
        )
    if PLAIN_NUMBER.fullmatch(text):
        return text
    if GROUPED_NUMBER.fullmatch(text):
        return text.replace(",", "")
    if DECIMAL_COMMA_NUMBER.fullmatch(text):
        return text.replace(",", ".")
    raise Invalid(f"is not a {kind}; write a number with an optional unit")


def _parse(value: str, default_unit: str, units: dict[str, Decimal], kind: str) -> Decimal:
    match = QUANTITY_RE.fullmatch(value.strip())
    if not match or not match["number"]:
        raise Invalid(f"is not a {kind}; write a number with an optional unit")
    number = _number(match["number"], kind)
    word = match["unit"].lower().rstrip(".")
    unit = {"#": "lb", '"': "in"}.get(word) or UNIT_WORDS.get(word, word) or default_unit or ""
    if unit not in units:
        names = ", ".join(units)
        raise Invalid(f'has the unit "{match["unit"]}", which is not a {kind} unit ({names})')
    try:
        amount = Decimal(number)
    except InvalidOperation:
        raise Invalid(f"is not a {kind}") from None
    if amount <= 0:
        raise Invalid(f"must be more than 0 {next(iter(units))}")
    # UPS bills weights and sizes to one decimal place, rounded up.
    try:
        return (amount * units[unit]).quantize(TENTH, rounding=ROUND_UP)
    except InvalidOperation:  # more digits than any parcel has
        raise Invalid(f"is far too large to be a {kind}") from None


def parse_weight_lbs(value: str, *, unit: str = "lb") -> Decimal:
    """Return a weight in pounds, rounded up to 0.1 lb; UPS takes more than 0 and up to 150 lb."""
    pounds = _parse(value, unit or "lb", TO_POUNDS, "weight")
    if pounds > MAX_WEIGHT_LBS:
        raise Invalid(f"is more than {MAX_WEIGHT_LBS} lb, the most UPS accepts for one package")
    return pounds


def parse_length_in(value: str, *, unit: str = "in") -> Decimal:
    """Return a length in inches, rounded up to 0.1 in."""
    return _parse(value, unit or "in", TO_INCHES, "length")
