"""Excel workbooks (.xlsx, .xlsm): read with openpyxl in read-only mode, patched on write-back."""

from __future__ import annotations

import contextlib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from itertools import chain, islice
from pathlib import Path
from typing import IO, Any

from openpyxl.utils import get_column_letter

from datasources.adapters.base import SourceRow, WriteBack, missing_rows_error
from datasources.adapters.excel_cells import (
    CORRUPT_ERRORS,
    cell_problem,
    cell_text,
    open_workbook,
    pick_sheet,
)
from datasources.adapters.excel_rows import iter_sheet_rows
from datasources.adapters.file_base import FileAdapter, reads_file
from datasources.adapters.index_cache import FileIndex
from datasources.adapters.rows import (
    HEADER_SCAN_ROWS,
    RowBuilder,
    check_headers,
    column_number,
    find_header_row,
    known_columns,
)
from datasources.adapters.xlsx_parts import copy_package, sheet_part
from datasources.adapters.xlsx_patch import NewCell, PatchError, patch_sheet
from datasources.atomic import FileSignature
from datasources.errors import SourceError
from datasources.headers import find_column
from datasources.injection import spreadsheet_text
from datasources.models import SourceKind
from datasources.sniff import corrupt_workbook_error

# A 10,000-row sheet is a few MB of XML; far more is a zip bomb, not an order list.
MAX_SHEET_XML_BYTES = 256 * 1024 * 1024


@dataclass
class _Layout:
    """The sheet's title, its header row and names, and the widest row seen."""

    title: str
    header_row: int
    headers: list[str]
    used: int
    # The write-back columns once ShipOps has written them (1-based).
    writeback: tuple[int, int] | None = None


class ExcelAdapter(FileAdapter):
    """One sheet of an .xlsx or .xlsm workbook."""

    kind = SourceKind.EXCEL

    @property
    def display(self) -> str:
        """Return the file path, with the sheet when one is named."""
        return self.source.location

    @contextlib.contextmanager
    def _sheet(self, path: Path) -> Iterator[Any]:
        with open_workbook(path, self.display) as workbook:
            yield pick_sheet(workbook, self.source.sheet_name, self.source.file_path)

    def _guarded(self, rows: Iterator[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
        """Yield openpyxl's rows, turning its parse failures into SourceError."""
        try:
            yield from rows
        except CORRUPT_ERRORS:
            raise corrupt_workbook_error(self.display) from None

    @reads_file
    def notices(self) -> list[str]:
        """Say when hidden sheets were passed over, and which columns hold values but no name."""
        unnamed = self.unnamed_notices()
        if self.source.sheet_name:
            return unnamed
        with self._sheet(self.path()) as sheet:
            hidden = [ws.title for ws in sheet.parent.worksheets if ws.sheet_state != "visible"]
            if not hidden:
                return unnamed
            names = ", ".join(f'"{title}"' for title in hidden)
            return [
                f'"{self.source.file_path}" also has hidden sheets ({names}); ShipOps reads the '
                f'first visible sheet, "{sheet.title}", unless the data source names a sheet.',
                *unnamed,
            ]

    @reads_file
    def headers(self) -> list[str]:
        """Return the header row's column names."""
        with self._sheet(self.path()) as sheet:
            return [h for h in self._layout(sheet)[0].headers if h]

    def _layout(self, sheet: Any) -> tuple[_Layout, Iterator[tuple[Any, ...]]]:
        """Return the header's layout and the rows below it (not yet read)."""
        rows = self._guarded(iter_sheet_rows(sheet, self.source.file_path, self.display))
        head = list(islice(rows, HEADER_SCAN_ROWS))
        cells = [[cell_text(cell) for cell in row] for row in head]
        index = find_header_row(cells, known=known_columns(self.source))
        if index is None:
            raise SourceError(
                "empty",
                f'The sheet "{sheet.title}" of "{self.source.file_path}" is empty.',
                source=self.display,
            )
        headers = check_headers(cells[index], self.display, where=f"row {index + 1}" * (index > 0))
        layout = _Layout(sheet.title, index + 1, headers, _last_used(head[index]))
        return layout, chain(head[index + 1 :], rows)

    def _read_rows(self, path: Path, index: FileIndex) -> Iterator[SourceRow]:
        with self._sheet(path) as sheet:
            layout, rest = self._layout(sheet)
            index.layout = layout
            builder = RowBuilder(
                layout.headers,
                source=self.source,
                display=self.display,
                column_label=_column_letter,
            )
            self.unnamed = builder.unnamed
            width = len(layout.headers)
            for number, cells in enumerate(rest, start=1):
                used = _last_used(cells)
                layout.used = max(layout.used, used)
                read = cells[:width]
                row = builder.build(
                    number,
                    [cell_text(cell) for cell in read],
                    problems=[cell_problem(cell) for cell in read],
                    unread=[
                        position
                        for position in range(width, used)
                        if cell_text(cells[position]).strip()
                    ],
                )
                if row is not None:
                    index.positions[row.key] = layout.header_row + number
                    yield row

    def _rewrite(
        self,
        path: Path,
        signature: FileSignature,
        updates: dict[str, WriteBack],
        out: IO[bytes],
    ) -> FileIndex | None:
        index = self._index(path, signature)  # where each row is; cached after a preview
        layout: _Layout = index.layout
        missing = updates.keys() - index.positions.keys()
        if missing:
            raise missing_rows_error(self.display, missing)
        changes, columns = self._changes(layout, index.positions, updates)
        try:
            with zipfile.ZipFile(path) as archive:
                part = sheet_part(archive, layout.title)
                if archive.getinfo(part).file_size > MAX_SHEET_XML_BYTES:
                    raise PatchError("the sheet is too large to rewrite in memory")
                xml = archive.read(part).decode("utf-8")
                patched = patch_sheet(xml, changes).encode("utf-8")
                copy_package(archive, out, {part: patched})
        except PatchError as error:
            raise SourceError(
                "writeback_failed",
                f'Tracking numbers cannot be written into "{self.display}": {error}.',
                source=self.display,
            ) from None
        except (*CORRUPT_ERRORS, UnicodeDecodeError):
            raise corrupt_workbook_error(self.display) from None
        # The next flush finds the write-back columns without reading the sheet again.
        return replace(index, layout=replace(layout, writeback=columns))

    def _changes(
        self, layout: _Layout, positions: dict[str, int], updates: dict[str, WriteBack]
    ) -> tuple[dict[int, dict[int, NewCell]], tuple[int, int]]:
        """Return the cells to write (sheet row -> column -> cell) and the two columns."""
        changes: dict[int, dict[int, NewCell]] = {}
        if layout.writeback is not None:
            tracking, shipped_at = layout.writeback
        else:
            tracking = self._column(layout, self.source.tracking_column, layout.used, changes)
            used = max(layout.used, tracking)
            shipped_at = self._column(layout, self.source.shipped_at_column, used, changes)
        for key, update in updates.items():
            changes[positions[key]] = {
                tracking: NewCell(spreadsheet_text(update.tracking_number)),
                shipped_at: NewCell(spreadsheet_text(update.shipped_at_text)),
            }
        return changes, (tracking, shipped_at)

    def _column(
        self, layout: _Layout, name: str, used: int, changes: dict[int, dict[int, NewCell]]
    ) -> int:
        """Return the 1-based column of ``name``, adding a header cell after ``used`` if absent."""
        found = find_column([h for h in layout.headers if h], name)
        if found is not None:
            return layout.headers.index(found) + 1
        column = used + 1
        new = NewCell(spreadsheet_text(name), like_left=True)
        changes.setdefault(layout.header_row, {})[column] = new
        return column


EXCEL_MAX_COLUMNS = 16_384  # column XFD


def _column_letter(position: int) -> str:
    """Name the column at 0-based ``position`` as Excel does: "Column K" (a number past XFD)."""
    if position >= EXCEL_MAX_COLUMNS:  # a damaged sheet's cells without an address run on
        return column_number(position)
    return f"Column {get_column_letter(position + 1)}"


def _last_used(cells: tuple[Any, ...]) -> int:
    for position in range(len(cells), 0, -1):
        if cells[position - 1].value not in (None, ""):
            return position
    return 0
