"""Cells that hold a spreadsheet's failure instead of a value; mapping makes them row errors.

Every source's text goes through ``text_problem``: a cell whose whole text is
one of Excel's error values ("#N/A", as a CSV saved by Excel writes a failed
lookup) is never an address or a weight. Sources that know a cell's type (an
Excel workbook) also report it on the row (``SourceRow.cell_problems``): an
error cell, or a formula whose result was never saved.
"""

from __future__ import annotations

# What Excel shows in a cell whose formula failed; no order holds these as data.
SPREADSHEET_ERRORS = frozenset(
    {
        "#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!",
        "#SPILL!", "#CALC!", "#GETTING_DATA",
    }
)  # fmt: skip


# A formula saved without its result (written by a program, never opened in Excel).
NO_SAVED_RESULT = "holds a formula with no saved result: open and save the workbook in Excel first"


def error_value_problem(error: str) -> str:
    """Return what a row error says of a cell holding the error value ``error``."""
    return f"holds the spreadsheet error {error}"


def text_problem(text: str) -> str:
    """Return the problem with a cell whose whole text is a spreadsheet error value, else ""."""
    error = text.strip()
    return error_value_problem(error) if error.upper() in SPREADSHEET_ERRORS else ""
