"""From cells to SourceRows, shared by every kind: header row, keys, checksums."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence

from datasources.adapters.base import SourceRow
from datasources.errors import SourceError
from datasources.headers import find_column, normalise_header, recognise
from datasources.models import DataSource

HEADER_SCAN_ROWS = 20
MAX_CELL_CHARS = 32_767  # what one Excel cell holds
DATA_LIKE = re.compile(r"^[\d\s.,:/+-]+$")
UNNAMED_ROWS_SHOWN = 3
UNNAMED_COLUMNS_SHOWN = 3


def known_columns(source: DataSource) -> set[str]:
    """Return the column names the source's configuration mentions."""
    names = {source.key_column, source.tracking_column, source.shipped_at_column}
    names.update(str(column) for column in (source.column_mapping or {}))
    return {normalise_header(name) for name in names if name}


def known_names_in(cells: Sequence[str], known: Collection[str]) -> int:
    """Count the cells that name a column: one ShipOps knows, or one of ``known_columns``."""
    return sum(1 for cell in cells if cell and (recognise(cell) or normalise_header(cell) in known))


def find_header_row(rows: Sequence[Sequence[str]], *, known: Collection[str]) -> int | None:
    """Return the index of the header: the first row naming two known columns, else the first."""
    for index, row in enumerate(rows):
        if known_names_in(row, known) >= 2:
            return index
    for index, row in enumerate(rows):
        if any(row):
            return index
    return None


def check_headers(cells: Sequence[str], display: str, *, where: str = "") -> list[str]:
    """Return the header names (trailing blanks dropped), refusing data rows and duplicates.

    ``where`` names the header's place ("line 3") when it is not the first row.
    """
    headers = [cell.strip() for cell in cells]
    while headers and not headers[-1]:
        headers.pop()
    if any(DATA_LIKE.match(header) for header in headers if header):
        first = f'The first row of "{display}"'
        if where:
            first = f'The header row of "{display}" ({where})'
        raise SourceError(
            "no_header",
            f"{first} holds data, not column names; "
            "add a header row (recipient, address1, city, state, zip, weight, ...).",
            source=display,
        )
    seen: dict[str, int] = {}
    for position, header in enumerate(headers, start=1):
        if not header:
            continue
        name = normalise_header(header) or header
        if name in seen:
            raise SourceError(
                "duplicate_headers",
                f'Columns {seen[name]} and {position} of "{display}" are both named '
                f'"{headers[seen[name] - 1]}"; column names must be unique.',
                source=display,
            )
        seen[name] = position
    return headers


def row_checksum(pairs: Sequence[tuple[str, str]], extra: Sequence[str] = ()) -> str:
    """Return the sha256 hex digest of a row's (header, value) pairs and any extra cells."""
    payload = json.dumps([list(pairs), list(extra)], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def column_number(position: int) -> str:
    """Name the column at 0-based ``position`` as a message does: "Column 3"."""
    return f"Column {position + 1}"


class UnnamedColumns:
    """Columns holding values under no name in the header row: ShipOps reads none of them."""

    def __init__(self, label: Callable[[int], str]) -> None:
        self.label = label
        self.counts: Counter[int] = Counter()
        self.first_rows: dict[int, list[int]] = {}

    def note(self, number: int, positions: Iterable[int]) -> None:
        """Note that row ``number`` holds values in the unnamed columns at ``positions``."""
        for position in positions:
            self.counts[position] += 1
            shown = self.first_rows.setdefault(position, [])
            if len(shown) < UNNAMED_ROWS_SHOWN:
                shown.append(number)

    def notices(self, display: str) -> list[str]:
        """Return a sentence per unnamed column that holds values, left to right, the first few."""
        sentences = []
        positions = sorted(self.counts)
        for position in positions[:UNNAMED_COLUMNS_SHOWN]:
            shown = self.first_rows[position]
            more = self.counts[position] - len(shown)
            rows = ", ".join(str(number) for number in shown) + (f" and {more} more" * bool(more))
            sentences.append(
                f'{self.label(position)} of "{display}" holds values '
                f"(row{'s' * (self.counts[position] > 1)} {rows}) but has no name in the "
                "header row, so ShipOps does not read it; name it there if it holds "
                "shipping data."
            )
        if len(positions) > UNNAMED_COLUMNS_SHOWN:
            rest = positions[UNNAMED_COLUMNS_SHOWN:]
            sentences.append(
                f'{len(rest)} more columns of "{display}" ({self.label(rest[0])} to '
                f"{self.label(rest[-1])}) hold values under no name too."
            )
        return sentences


class RowBuilder:
    """Build SourceRows under one header: the key, the checksum, unique keys."""

    def __init__(
        self,
        headers: list[str],
        *,
        source: DataSource,
        display: str,
        key_column: str | None = None,
        column_label: Callable[[int], str] = column_number,
    ):
        self.headers = headers
        self.display = display
        self.unnamed = UnnamedColumns(column_label)
        self.unnamed_positions = [position for position, h in enumerate(headers) if not h]
        self.key_column = (source.key_column if key_column is None else key_column).strip()
        self.key_index: int | None = None
        if self.key_column:
            found = find_column([h for h in headers if h], self.key_column)
            if found is None:
                raise SourceError(
                    "key_column_missing",
                    f'"{display}" has no key column "{self.key_column}"; '
                    "fix the data source's key column or leave it blank to use row numbers.",
                    source=display,
                )
            self.key_index = headers.index(found)
        named = [h for h in headers if h]
        excluded = {find_column(named, source.tracking_column)}
        excluded.add(find_column(named, source.shipped_at_column))
        self.checked = [(i, h) for i, h in enumerate(headers) if h and h not in excluded]
        self.seen: dict[str, int] = {}

    def build(
        self,
        number: int,
        cells: Sequence[str],
        extra: Sequence[str] = (),
        problems: Sequence[str] = (),
        unread: Sequence[int] = (),
    ) -> SourceRow | None:
        """Return the row ``number`` made of ``cells`` (one per header), or None when blank.

        ``problems`` holds, cell by cell, what the source knows a cell holds
        instead of a value ("" for none). ``unread`` holds the positions of
        cells right of the header that hold values (a sheet's), noted with
        the cells under a blank column name in ``unnamed``.
        """
        key = self.key(number, cells, extra, problems)
        if key is None:
            return None
        width = len(self.headers)
        cells = list(cells[:width]) + [""] * (width - len(cells))
        unnamed_values = [place for place in self.unnamed_positions if cells[place].strip()]
        if unnamed_values or unread:
            self.unnamed.note(number, [*unnamed_values, *unread])
        values = {header: cells[i] for i, header in enumerate(self.headers) if header}
        pairs = [(header, cells[i]) for i, header in self.checked]
        return SourceRow(
            number=number,
            key=key,
            values=values,
            checksum=row_checksum(pairs, extra),
            issues=self._issues(cells, extra),
            cell_problems={
                header: problem
                for header, problem in zip(self.headers, problems, strict=False)
                if header and problem
            },
        )

    def key(
        self,
        number: int,
        cells: Sequence[str],
        extra: Sequence[str] = (),
        problems: Sequence[str] = (),
    ) -> str | None:
        """Return the key of row ``number`` (None when blank), refusing blank or repeated keys.

        A row is blank when no cell holds anything: a cell with a problem (an
        error value, a formula never calculated) is not nothing.
        """
        if not any(cells) and not any(extra) and not any(problems):
            return None
        if self.key_index is None:
            return str(number)
        key = cells[self.key_index] if self.key_index < len(cells) else ""
        problem = problems[self.key_index] if self.key_index < len(problems) else ""
        if problem and not key:
            raise SourceError(
                "key_blank",
                f'Row {number} of "{self.display}": the key column "{self.key_column}" {problem}.',
                source=self.display,
            )
        self._check_key(key, number)
        return key

    def _check_key(self, key: str, number: int) -> None:
        if not key:
            raise SourceError(
                "key_blank",
                f'Row {number} of "{self.display}" has nothing in the key column '
                f'"{self.key_column}"; every row needs a key.',
                source=self.display,
            )
        if key in self.seen:
            raise SourceError(
                "duplicate_key",
                f'Rows {self.seen[key]} and {number} of "{self.display}" both have the key '
                f'"{key}" in column "{self.key_column}"; keys must be unique.',
                source=self.display,
                details={"key": key, "rows": [self.seen[key], number]},
            )
        self.seen[key] = number

    def _issues(self, cells: Sequence[str], extra: Sequence[str]) -> tuple[str, ...]:
        issues = []
        if any(extra):
            issues.append(
                f"The row has {len(self.headers) + len(extra)} cells but the header names "
                f"{len(self.headers)} columns; a value probably holds an unquoted delimiter."
            )
        for header, cell in zip(self.headers, cells, strict=True):
            if len(cell) > MAX_CELL_CHARS:
                issues.append(
                    f'Column "{header}" holds {len(cell):,} characters; '
                    f"a cell holds at most {MAX_CELL_CHARS:,}."
                )
        return tuple(issues)
