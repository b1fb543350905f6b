"""Opening a workbook safely, choosing its sheet, and turning its cells into text."""

from __future__ import annotations

import contextlib
import re
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from datasources.adapters.excel_rows import NO_RESULT
from datasources.cell_errors import NO_SAVED_RESULT, error_value_problem
from datasources.errors import SourceError
from datasources.sniff import check_workbook_container, corrupt_workbook_error, xls_error
from datasources.values import value_text

EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
# What openpyxl and zipfile raise on a damaged workbook; none of it is a ShipOps bug.
CORRUPT_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    KeyError,
    ValueError,
    TypeError,
    IndexError,
    AttributeError,
    SyntaxError,
    EOFError,
    OSError,
)
ZERO_FORMAT = re.compile(r"^0+(?:-0+)?$")


def check_excel_file(path: Path, display: str) -> None:
    """Refuse a file that is not an .xlsx or .xlsm workbook, judging by name and by content."""
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise xls_error(display)
    if suffix not in EXCEL_SUFFIXES:
        raise SourceError(
            "not_excel",
            f'"{display}" is not named like an Excel workbook (.xlsx or .xlsm).',
            source=display,
        )
    check_workbook_container(path, display)


@contextlib.contextmanager
def open_workbook(path: Path, display: str) -> Iterator[Any]:
    """Open the workbook read-only with cached formula results, closing it afterwards."""
    check_excel_file(path, display)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True, keep_links=False)
    except CORRUPT_ERRORS:
        raise corrupt_workbook_error(display) from None
    try:
        yield workbook
    finally:
        workbook.close()


def pick_sheet(workbook: Any, sheet_name: str, display: str) -> Any:
    """Return the named sheet (case-insensitive), or the first visible one when none is named."""
    sheets = workbook.worksheets
    if not sheet_name:
        visible = [sheet for sheet in sheets if sheet.sheet_state == "visible"]
        if not (visible or sheets):
            raise SourceError("empty", f'"{display}" has no worksheet.', source=display)
        return (visible or sheets)[0]
    for sheet in sheets:
        if sheet.title == sheet_name or sheet.title.casefold() == sheet_name.casefold():
            return sheet
    names = ", ".join(f'"{sheet.title}"' for sheet in sheets)
    raise SourceError(
        "sheet_missing",
        f'"{display}" has no sheet named "{sheet_name}"; its sheets are {names}.',
        source=display,
    )


def _zero_padded(value: int, number_format: str) -> str | None:
    """Apply a ZIP-style format such as "00000" or "00000-0000" to a whole number."""
    sections = [re.sub(r"\[[^\]]*\]", "", part) for part in number_format.split(";")]
    if len(sections) > 1 and value > 99999 and ZERO_FORMAT.match(sections[1]):
        pattern = sections[1]
    else:
        pattern = sections[0]
    if not ZERO_FORMAT.match(pattern) or value < 0:
        return None
    digits = str(value).zfill(pattern.count("0"))
    if "-" not in pattern:
        return digits
    head = len(pattern.split("-")[0])
    return f"{digits[:head]}-{digits[head:]}"


def cell_text(cell: Any) -> str:
    """Return a cell's normalised text: numbers without float noise, dates as ISO 8601."""
    value = cell.value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        padded = _zero_padded(value, cell.number_format or "General")
        if padded is not None:
            return padded
    return value_text(value)


def cell_problem(cell: Any) -> str:
    """Return what a cell holds instead of a value (#N/A, a formula never calculated), else ""."""
    if cell.data_type == "e":
        return error_value_problem(value_text(cell.value))
    if cell.data_type == NO_RESULT:
        return NO_SAVED_RESULT
    return ""
