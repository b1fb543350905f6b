"""1Z tracking numbers: the check digit as CONTRACT.md describes it."""

from __future__ import annotations

import re

TRACKING_NUMBER_RE = re.compile(r"^1Z[0-9A-Z]{15}[0-9]$")


def check_digit(body: str) -> int:
    """Return the check digit for the 15 characters after ``1Z``."""
    total = 0
    for position, char in enumerate(body, start=1):
        value = int(char) if char.isdigit() else (ord(char) - 63) % 10
        total += value * (2 if position % 2 == 0 else 1)
    return (10 - total % 10) % 10


def make_tracking_number(shipper_number: str, service_code: str, package_id: int) -> str:
    """Return ``1Z`` + shipper number + service + 7-digit package id + check digit."""
    body = f"{shipper_number.upper():0>6.6}{service_code:0>2.2}{package_id % 10_000_000:07d}"
    return f"1Z{body}{check_digit(body)}"


def is_valid_tracking_number(value: str) -> bool:
    """Return True for a well-formed 1Z number whose check digit is right."""
    return bool(TRACKING_NUMBER_RE.match(value)) and check_digit(value[2:17]) == int(value[17])
