"""Spreadsheet formula injection: formula-like values are neutralised before they reach a cell."""

from __future__ import annotations

import pytest

from datasources.injection import looks_like_formula, spreadsheet_text


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=SUM(A1:A9)", "'=SUM(A1:A9)"),
        ("+1-555", "'+1-555"),
        ("-2+3", "'-2+3"),
        ("@cmd", "'@cmd"),
        ("\t=1", "'\t=1"),
        ("1Z999AA10123456784", "1Z999AA10123456784"),
        ("2024-05-01T14:30:00+00:00", "2024-05-01T14:30:00+00:00"),
        ("", ""),
    ],
)
def test_formula_like_values_get_an_apostrophe(value: str, written: str) -> None:
    assert spreadsheet_text(value) == written
    assert looks_like_formula(value) == (written != value)
