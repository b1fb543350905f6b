"""A sheet's rows streamed from its XML: each row in its place, or the sheet refused as damaged.

Cells are openpyxl's read-only cells with the results Excel saved, except
that a formula cell saved without a result has the data type ``NO_RESULT``
(openpyxl reads it as an empty cell).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from openpyxl.cell.read_only import EMPTY_CELL, ReadOnlyCell
from openpyxl.worksheet._reader import FORMULA_TAG, VALUE_TAG, WorkSheetParser

from datasources.errors import SourceError

Damaged = Callable[[str], SourceError]
NO_RESULT = "no_result"


class _SheetParser(WorkSheetParser):
    """openpyxl's sheet parser, telling a formula never calculated from an empty cell."""

    def parse_cell(self, element: Any) -> dict[str, Any]:
        cell: dict[str, Any] = super().parse_cell(element)
        if cell["value"] is None and _no_saved_result(element):
            cell["data_type"] = NO_RESULT
        return cell


def _no_saved_result(element: Any) -> bool:
    """Return whether a cell without a value holds a formula whose result was never saved.

    A program that writes formulas leaves the value out or empty; Excel saves
    an empty text result (=IF(A2="","",...)) as a string (t="str") with an
    empty value, which is an empty cell.
    """
    if element.find(FORMULA_TAG) is None:
        return False
    return element.find(VALUE_TAG) is None or element.get("t") != "str"


def damaged_sheet_error(title: str, file_name: str, display: str, what: str) -> SourceError:
    """Return the error for a sheet whose XML stores a row or a cell out of its place."""
    return SourceError(
        "workbook_corrupt",
        f'The sheet "{title}" of "{file_name}" is damaged: {what}, so rows could be lost or '
        "misplaced; open the workbook in Excel, repair it and save it again.",
        source=display,
    )


def iter_sheet_rows(sheet: Any, file_name: str, display: str) -> Iterator[tuple[Any, ...]]:
    """Yield a read-only sheet's rows from row 1, an empty tuple for each row not stored.

    openpyxl's own row reader silently drops a row stored after a higher one
    (and the second of two rows with one number); ShipOps refuses such a
    sheet instead. The sheet's <dimension> is not consulted: every stored row
    and cell is read.
    """
    damaged = partial(damaged_sheet_error, sheet.title, file_name, display)
    workbook = sheet.parent
    # The parser and arguments of openpyxl's ReadOnlyWorksheet._cells_by_row, without its loop.
    with sheet._get_source() as xml:
        parser = _SheetParser(
            xml,
            sheet._shared_strings,
            data_only=True,
            epoch=workbook.epoch,
            date_formats=workbook._date_formats,
            timedelta_formats=workbook._timedelta_formats,
        )
        previous = 0
        for number, cells in parser.parse():
            if number <= previous:
                order = "twice" if number == previous else f"after row {previous}"
                raise damaged(f"row {number} is stored {order}")
            for _ in range(previous + 1, number):
                yield ()
            previous = number
            yield _row(sheet, number, cells, damaged)


def _row(sheet: Any, number: int, cells: list[dict[str, Any]], damaged: Damaged) -> tuple[Any, ...]:
    """Return a stored row's cells by column (A first), EMPTY_CELL where none is stored."""
    if not cells:
        return ()
    row: list[Any] = [EMPTY_CELL] * max(cell["column"] for cell in cells)
    for cell in cells:
        read = ReadOnlyCell(sheet, **cell)
        if read.row != number:
            raise damaged(f"cell {read.coordinate} is stored in row {number}")
        if row[read.column - 1] is not EMPTY_CELL:
            raise damaged(f"cell {read.coordinate} is stored twice")
        row[read.column - 1] = read
    return tuple(row)
