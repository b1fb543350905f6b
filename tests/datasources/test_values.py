"""Cell and column values become stable text: no float noise, ISO dates."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from datasources.values import value_text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        ("  Atlanta ", "Atlanta"),
        (30303, "30303"),
        (30303.0, "30303"),
        (2.50, "2.5"),
        (0.1 + 0.2, "0.3"),
        (1e-7, "0.0000001"),
        (Decimal("2.50"), "2.5"),
        (Decimal("1E+2"), "100"),
        (-0.0, "0"),
        (True, "TRUE"),
        (dt.date(2024, 5, 1), "2024-05-01"),
        (dt.datetime(2024, 5, 1), "2024-05-01"),
        (dt.datetime(2024, 5, 1, 9, 5), "2024-05-01T09:05:00"),
        (dt.datetime(2024, 5, 1, tzinfo=dt.UTC), "2024-05-01T00:00:00+00:00"),
        (dt.time(9, 5), "09:05:00"),
        (b"\x01\xff", "01ff"),
        (uuid.UUID(int=1), "00000000-0000-0000-0000-000000000001"),
    ],
)
def test_values_become_text(value: object, text: str) -> None:
    assert value_text(value) == text
