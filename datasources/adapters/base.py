"""The contract every source adapter keeps: read rows as a stream, checksum them, write back."""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from django.utils import timezone

from datasources.errors import SourceError
from datasources.headers import find_column, normalise_header
from datasources.models import DataSource


@dataclass(frozen=True)
class SourceRow:
    """One data row: its 1-based number, its key, its cells by header, and its checksum.

    ``issues`` holds problems found while reading (a row with more cells than
    the header, a cell too long for a spreadsheet); mapping turns each into a
    row error, so such a row is never shipped. ``cell_problems`` names, by
    column, cells the source knows hold no value ("holds the spreadsheet error
    #N/A"); mapping makes each one it uses a row error.
    """

    number: int
    key: str
    values: dict[str, str]
    checksum: str
    issues: tuple[str, ...] = field(default=())
    cell_problems: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class WriteBack:
    """A tracking number and ship time to write into the row with ``key``.

    ``checksum`` is the row's checksum when it shipped: a file keyed by row
    number refuses the write-back if the row there no longer has it (rows
    were inserted or deleted), rather than write into another order's row.
    """

    key: str
    tracking_number: str
    shipped_at: dt.datetime
    checksum: str = ""

    def __post_init__(self) -> None:
        if timezone.is_naive(self.shipped_at):
            raise ValueError("WriteBack.shipped_at must be an aware datetime.")

    @property
    def shipped_at_text(self) -> str:
        """Return the ship time as ISO 8601 with its offset, in the project's time zone."""
        return timezone.localtime(self.shipped_at).isoformat(timespec="seconds")


class SourceAdapter(ABC):
    """Read one data source's rows and write tracking numbers back into it."""

    kind: ClassVar[str]

    def __init__(self, source: DataSource):
        self.source = source

    @property
    def display(self) -> str:
        """Return how messages name the source: the file path or alias:table."""
        return self.source.location

    @abstractmethod
    def headers(self) -> list[str]:
        """Return the column names, in source order."""

    @abstractmethod
    def iter_rows(self) -> Iterator[SourceRow]:
        """Yield every non-blank data row, reading the source as a stream."""

    @abstractmethod
    def current_checksums(self, keys: Collection[str]) -> dict[str, str]:
        """Return the current checksum of each key still present in the source."""

    @abstractmethod
    def write_back(self, updates: Sequence[WriteBack]) -> None:
        """Write every update in one operation, or nothing; raise SourceError on failure."""

    @abstractmethod
    def check_write_back(self) -> None:
        """Raise SourceError now if a later write-back could not work (a missing column)."""

    def notices(self) -> list[str]:
        """Return things the operator should know about how the source was read."""
        return []

    def key_identity(self, key_column: str) -> str:
        """Return what keys made under ``key_column`` name, compared as headers are matched.

        "" is row numbers. "order_id" and "Order ID" are one column, as for the adapters.
        """
        name = key_column.strip()
        return f"column:{normalise_header(name) or name}" if name else ""

    def key_label(self, key_column: str) -> str:
        """Return how a message names the keys made under ``key_column``."""
        return f'"{key_column.strip()}"' if key_column.strip() else "row numbers"

    def check_keys(self, key_column: str) -> None:
        """Refuse to find rows by keys made under another key column than the source's now."""
        if self.key_identity(key_column) == self.key_identity(self.source.key_column):
            return
        then, now = (self.key_label(column) for column in (key_column, self.source.key_column))
        raise SourceError(
            "writeback_key_changed",
            f'The key column of "{self.display}" changed since these rows were read (from '
            f"{then} to {now}), so their keys no longer find them and nothing was written. "
            "Set the key column back and retry the write-back, or copy the tracking numbers "
            "from the job into the source.",
            source=self.display,
        )

    def existing_tracking(self, values: Mapping[str, str]) -> str:
        """Return the tracking number a row already holds, or ""."""
        return existing_tracking(values, self.source.tracking_column)


def existing_tracking(values: Mapping[str, str], tracking_column: str) -> str:
    """Return the text in the row's tracking column, or "" when it has none."""
    column = find_column(values.keys(), tracking_column)
    return values.get(column, "").strip() if column else ""


def index_updates(updates: Sequence[WriteBack], display: str) -> dict[str, WriteBack]:
    """Return the updates by key, refusing two updates of one key in a batch."""
    by_key: dict[str, WriteBack] = {}
    for update in updates:
        if update.key in by_key:
            raise SourceError(
                "writeback_duplicate_key",
                f'The write-back to "{display}" names the row "{update.key}" twice.',
                source=display,
            )
        by_key[update.key] = update
    return by_key


def missing_rows_error(display: str, missing: Collection[str]) -> SourceError:
    """Return the error for updates whose rows are no longer in the source."""
    keys = sorted(missing)
    shown = ", ".join(f'"{key}"' for key in keys[:10])
    more = f" and {len(keys) - 10} more" if len(keys) > 10 else ""
    return SourceError(
        "writeback_rows_missing",
        f'"{display}" no longer has the rows {shown}{more}; nothing was written.',
        source=display,
        details={"missing_keys": keys},
    )
