"""CSV files: read as a stream, written back with only the write-back cells changed."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain, islice
from pathlib import Path
from typing import IO

from datasources.adapters.base import SourceRow, WriteBack, missing_rows_error
from datasources.adapters.csv_format import CsvFormat, detect_format
from datasources.adapters.csv_records import (
    QUOTE,
    CsvSyntaxError,
    Record,
    iter_records,
    swallowed_row,
)
from datasources.adapters.file_base import FileAdapter, reads_file
from datasources.adapters.index_cache import FileIndex
from datasources.adapters.rows import (
    HEADER_SCAN_ROWS,
    RowBuilder,
    check_headers,
    find_header_row,
    known_columns,
)
from datasources.atomic import FileSignature
from datasources.errors import SourceError
from datasources.headers import find_column
from datasources.injection import spreadsheet_text
from datasources.models import SourceKind

logger = logging.getLogger(__name__)


@dataclass
class _Layout:
    """The records above the header, the header, and the records after it (unread)."""

    before: list[Record]
    header: Record
    headers: list[str]
    rest: Iterator[Record]


def _on_one_line(record: Record) -> bool:
    return not any("\n" in field or "\r" in field for field in record.raw)


class CsvAdapter(FileAdapter):
    """A CSV file: UTF-8 (BOM or not) or Windows-1252, any common delimiter."""

    kind = SourceKind.CSV

    @reads_file
    def format(self) -> CsvFormat:
        """Return the file's encoding and delimiter."""
        return self._detect(self.path())

    @reads_file
    def notices(self) -> list[str]:
        """Say when the file was read as Windows-1252, and which columns have no name."""
        unnamed = self.unnamed_notices()
        if not self.format().encoding.is_fallback:
            return unnamed
        return [
            f'"{self.display}" is not UTF-8; it was read as Windows-1252 (cp1252) and '
            "tracking numbers are written back in the same encoding.",
            *unnamed,
        ]

    @reads_file
    def headers(self) -> list[str]:
        """Return the header row's column names."""
        path = self.path()
        csv_format = self._detect(path)
        with self._open(path, csv_format) as stream:
            return [h for h in self._layout(stream, csv_format).headers if h]

    def _detect(self, path: Path) -> CsvFormat:
        return detect_format(path, self.display, known=known_columns(self.source))

    def _open(self, path: Path, csv_format: CsvFormat) -> io.TextIOWrapper:
        return path.open(encoding=csv_format.encoding.python_codec, newline="")

    def _layout(self, stream: io.TextIOWrapper, csv_format: CsvFormat) -> _Layout:
        records = self._records(stream, csv_format)
        head = list(islice(records, HEADER_SCAN_ROWS))
        cells = [[value.strip() for value in record.values] for record in head]
        index = find_header_row(cells, known=known_columns(self.source))
        if index is None:
            raise SourceError(
                "empty", f'"{self.display}" has no rows, not even a header.', source=self.display
            )
        line = head[index].line
        headers = check_headers(cells[index], self.display, where=f"line {line}" * (line > 1))
        rest = self._no_rows_swallowed(
            chain(head[index + 1 :], records),
            width=self._data_width(headers),
            delimiter=csv_format.delimiter,
        )
        return _Layout(head[:index], head[index], headers, rest)

    def _no_rows_swallowed(
        self, records: Iterator[Record], *, width: int, delimiter: str
    ) -> Iterator[Record]:
        """Pass the records on, refusing one whose quoted value holds whole rows.

        A quote opened by mistake runs on to the next quote in the file, which
        may be rows later: the rows between would become one cell's text and
        never ship, unreported. A line inside a quoted value that holds as
        many delimiters as a row of this file is taken for such a row: as the
        header's columns but the write-back ones (which rows that have not
        shipped lack), or as the shortest row read so far.
        """
        # A ragged row of two cells must not make every note with a comma a "row".
        floor = max(3, width // 2)
        for record in records:
            if len(record.raw) > 1 and _on_one_line(record):
                width = max(floor, min(width, len(record.raw)))  # shorter rows count
            swallowed = swallowed_row(record, width=width, delimiter=delimiter)
            if swallowed is not None:
                line, text = swallowed
                raise self._malformed(
                    CsvSyntaxError(
                        f"it lies inside a quoted value that starts on line {record.line}, yet "
                        f"it holds a whole row ({text[:80]}); a quote is missing or stray on "
                        f"line {record.line}",
                        line,
                    )
                )
            yield record

    def _data_width(self, headers: list[str]) -> int:
        """Return how many columns a row has at the least: the header's, less write-back ones."""
        named = [header for header in headers if header]
        written = {
            find_column(named, self.source.tracking_column),
            find_column(named, self.source.shipped_at_column),
        } - {None}
        return len(headers) - len(written)

    def _records(self, stream: io.TextIOWrapper, csv_format: CsvFormat) -> Iterator[Record]:
        try:
            yield from iter_records(stream, csv_format.delimiter)
        except CsvSyntaxError as error:
            raise self._malformed(error) from None
        except UnicodeDecodeError:
            raise SourceError(
                "source_changed",
                f'"{self.display}" changed while it was being read; try again.',
                source=self.display,
            ) from None

    def _malformed(self, error: CsvSyntaxError) -> SourceError:
        return SourceError(
            "csv_malformed",
            f'"{self.display}" cannot be read at line {error.line}: {error.problem}.',
            source=self.display,
            details={"line": error.line},
        )

    def _read_rows(self, path: Path, index: FileIndex) -> Iterator[SourceRow]:
        csv_format = self._detect(path)
        if csv_format.encoding.is_fallback:
            logger.warning("%s is not UTF-8; reading it as cp1252.", self.display)
        with self._open(path, csv_format) as stream:
            layout = self._layout(stream, csv_format)
            builder = RowBuilder(layout.headers, source=self.source, display=self.display)
            self.unnamed = builder.unnamed
            width = len(layout.headers)
            for number, record in enumerate(layout.rest, start=1):
                cells = [value.strip() for value in record.values]
                row = builder.build(number, cells[:width], cells[width:])
                if row is not None:
                    yield row

    def _rewrite(
        self,
        path: Path,
        signature: FileSignature,
        updates: dict[str, WriteBack],
        out: IO[bytes],
    ) -> FileIndex | None:
        # One streaming pass finds the rows by key; a cached index is only passed on.
        csv_format = self._detect(path)
        writer = io.TextIOWrapper(out, encoding=csv_format.encoding.python_codec, newline="")
        try:
            with self._open(path, csv_format) as stream:
                layout = self._layout(stream, csv_format)
                _CsvRewrite(self, layout, csv_format.delimiter, updates).run(writer)
            writer.flush()
            return self._cached_index(path, signature)
        except UnicodeEncodeError:
            raise SourceError(
                "writeback_encoding",
                f'A tracking number cannot be written in the encoding of "{self.display}".',
                source=self.display,
            ) from None
        finally:
            writer.detach()


class _CsvRewrite:
    """One pass over the records: copy each, change the write-back cells of updated rows."""

    def __init__(
        self, adapter: CsvAdapter, layout: _Layout, delimiter: str, updates: dict[str, WriteBack]
    ):
        self.adapter = adapter
        self.layout = layout
        self.delimiter = delimiter
        self.updates = updates
        header = layout.header
        # A file written with every field quoted keeps that style for the cells we add.
        self.quote_all = all(field.startswith(QUOTE) for field in header.raw)
        self.original_width = len(header.raw)
        self.header_raw = list(header.raw)
        self.tracking = self._column(adapter.source.tracking_column)
        self.shipped_at = self._column(adapter.source.shipped_at_column)

    def _column(self, name: str) -> int:
        named = [h for h in self.layout.headers if h]
        found = find_column(named, name)
        if found is not None:
            return self.layout.headers.index(found)
        self.header_raw.append(self.cell(name))
        return len(self.header_raw) - 1

    def cell(self, text: str) -> str:
        """Return ``text`` as a raw field: quoted when needed or when the file quotes all."""
        text = spreadsheet_text(text)
        special = self.delimiter in text or any(c in text for c in '"\r\n')
        if self.quote_all or special:
            return QUOTE + text.replace(QUOTE, QUOTE * 2) + QUOTE
        return text

    def run(self, writer: io.TextIOWrapper) -> None:
        """Write every record, changed where an update names its row."""
        delimiter = self.delimiter
        for record in self.layout.before:
            writer.write(record.text(delimiter))
        writer.write(delimiter.join(self.header_raw) + self.layout.header.terminator)
        builder = RowBuilder(
            self.layout.headers, source=self.adapter.source, display=self.adapter.display
        )
        width = len(self.layout.headers)
        found: set[str] = set()
        for number, record in enumerate(self.layout.rest, start=1):
            cells = [value.strip() for value in record.values]
            key = builder.key(number, cells[:width], cells[width:])
            update = self.updates.get(key) if key is not None else None
            if update is None:
                writer.write(record.text(delimiter))
                continue
            found.add(update.key)
            writer.write(delimiter.join(self._changed(record, update, number)) + record.terminator)
        missing = self.updates.keys() - found
        if missing:
            raise missing_rows_error(self.adapter.display, missing)

    def _changed(self, record: Record, update: WriteBack, number: int) -> list[str]:
        raw = list(record.raw)
        needed = max(self.tracking, self.shipped_at) + 1
        if len(raw) > self.original_width and needed > self.original_width:
            raise SourceError(
                "writeback_ragged_row",
                f'Row {number} of "{self.adapter.display}" has more cells than the header, so '
                "the tracking columns cannot be added; fix that row first.",
                source=self.adapter.display,
            )
        raw.extend(self.cell("") for _ in range(needed - len(raw)))
        raw[self.tracking] = self.cell(update.tracking_number)
        raw[self.shipped_at] = self.cell(update.shipped_at_text)
        return raw
