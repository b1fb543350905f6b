"""Spreadsheet formula injection: what ShipOps writes into a cell is never run as a formula.

A value that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage
return, which some programs skip before those) would be read by Excel or
LibreOffice as a formula. CSV cells get a leading apostrophe, the OWASP
advice; Excel cells are always written as text cells (``inlineStr``), which
no spreadsheet evaluates, whatever their first character.
"""

from __future__ import annotations

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(value: str) -> bool:
    """Return True when a spreadsheet would evaluate ``value`` typed into a cell."""
    return value.startswith(FORMULA_TRIGGERS)


def spreadsheet_text(value: str) -> str:
    """Return ``value`` made safe to write into a CSV cell: formula-like text gets an apostrophe."""
    return f"'{value}" if looks_like_formula(value) else value
