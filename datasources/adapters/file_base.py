"""What CSV and Excel adapters share: the confined path, the file index, atomic write-back."""

from __future__ import annotations

import functools
import os
import stat
from abc import abstractmethod
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator, Sequence
from pathlib import Path
from typing import IO, Concatenate

from datasources.adapters.base import SourceAdapter, SourceRow, WriteBack, index_updates
from datasources.adapters.index_cache import INDEXES, FileIndex
from datasources.adapters.rows import UnnamedColumns
from datasources.atomic import FileSignature, atomic_write, file_lock, file_signature
from datasources.errors import RowsNotWritten, SourceError
from datasources.files import existing_source_file

WRITE_BITS = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH


def unreadable_error(display: str, error: OSError) -> SourceError:
    """Return the operator's error for a file the system would not let ShipOps read."""
    return SourceError(
        "source_unreadable",
        f'"{display}" cannot be read: {error.strerror or error}. Check that the file is '
        "readable by ShipOps's user, then try again.",
        source=display,
    )


def reads_file[A: FileAdapter, **P, T](
    method: Callable[Concatenate[A, P], T],
) -> Callable[Concatenate[A, P], T]:
    """Turn an operating-system error while ``method`` reads the file into a SourceError."""

    @functools.wraps(method)
    def read(self: A, *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return method(self, *args, **kwargs)
        except OSError as error:
            raise unreadable_error(self.display, error) from error

    return read


class FileAdapter(SourceAdapter):
    """A source that is one file under SHIPOPS_SOURCE_ROOT."""

    # Filled by the last read of rows: the columns with values but no name.
    unnamed: UnnamedColumns | None = None

    def unnamed_notices(self) -> list[str]:
        """Name the columns the rows read so far hold values in, under no column name."""
        return self.unnamed.notices(self.display) if self.unnamed else []

    @property
    def display(self) -> str:
        """Return the file's path relative to the source folder."""
        return self.source.file_path

    def path(self) -> Path:
        """Return the file's resolved path, refusing paths outside the source folder."""
        return existing_source_file(self.source.file_path)

    @abstractmethod
    def _read_rows(self, path: Path, index: FileIndex) -> Iterator[SourceRow]:
        """Yield the rows of the file at ``path``, noting kind-specific layout in ``index``."""

    @abstractmethod
    def _rewrite(
        self,
        path: Path,
        signature: FileSignature,
        updates: dict[str, WriteBack],
        out: IO[bytes],
    ) -> FileIndex | None:
        """Write the file at ``path`` with ``updates`` applied into ``out``; return its index.

        A write-back changes no checksum and moves no row, so the new file's
        index is the old one (or a copy that knows the columns added), when
        one is at hand.
        """

    def _cache_name(self, path: Path) -> tuple[str, ...]:
        source = self.source
        return (
            str(path),
            source.kind,
            source.sheet_name,
            source.key_column,
            source.tracking_column,
            source.shipped_at_column,
        )

    def _scan(self, path: Path, index: FileIndex) -> Iterator[SourceRow]:
        for row in self._read_rows(path, index):
            index.checksums[row.key] = row.checksum
            yield row

    def _cached_index(self, path: Path, signature: FileSignature) -> FileIndex | None:
        return INDEXES.get(self._cache_name(path), signature)

    def _index(self, path: Path, signature: FileSignature) -> FileIndex:
        index = self._cached_index(path, signature)
        if index is None:
            index = FileIndex()
            for _ in self._scan(path, index):
                pass
            INDEXES.put(self._cache_name(path), signature, index)
        return index

    def iter_rows(self) -> Iterator[SourceRow]:
        """Yield every row; a complete pass also refreshes the file's index."""
        path = self.path()
        try:
            signature = file_signature(path)
            index = FileIndex()
            yield from self._scan(path, index)
        except OSError as error:
            raise unreadable_error(self.display, error) from error
        INDEXES.put(self._cache_name(path), signature, index)

    @reads_file
    def current_checksums(self, keys: Collection[str]) -> dict[str, str]:
        """Return the checksums of ``keys``, re-reading the file only when it changed."""
        path = self.path()
        checksums = self._index(path, file_signature(path)).checksums
        return {key: checksums[key] for key in keys if key in checksums}

    def _unmatched_rows(
        self, path: Path, signature: FileSignature, by_key: dict[str, WriteBack]
    ) -> tuple[list[str], bool]:
        """Return the row numbers that no longer hold what shipped from them, and whether
        rows shifted.

        Rows shifted (some were inserted or deleted above) when what shipped
        from one of those rows now sits at another number, or what sits there
        now shipped from another row: then no row number can be trusted, not
        even where the content matches (two identical order lines). Otherwise
        those rows were edited or removed in place, and the others still hold
        their orders.
        """
        checksums = self._index(path, signature).checksums
        unmatched = [
            key
            for key, update in by_key.items()
            if update.checksum and checksums.get(key) != update.checksum
        ]
        if not unmatched:
            return [], False
        found_at: dict[str, set[str]] = defaultdict(set)
        for key, checksum in checksums.items():
            found_at[checksum].add(key)
        shipped = {update.checksum for update in by_key.values() if update.checksum}
        shifted = any(
            found_at.get(by_key[key].checksum, set()) - {key} or checksums.get(key) in shipped
            for key in unmatched
        )
        return unmatched, shifted

    def _refusal(self, unmatched: list[str], refused: set[str], shifted: bool) -> RowsNotWritten:
        numbers = ", ".join(unmatched[:10])
        if len(unmatched) > 10:
            numbers += f" and {len(unmatched) - 10} more"
        if shifted:
            what = (
                f"rows were inserted or deleted, so row(s) {numbers} no longer hold the orders "
                "that shipped from them. Without a key column ShipOps finds rows by their "
                "number, so nothing was written."
            )
        else:
            what = (
                f"row(s) {numbers} no longer hold the orders that shipped from them (edited or "
                "removed). Without a key column ShipOps finds rows by their number, so their "
                "tracking numbers were not written; the other rows' were."
            )
        return RowsNotWritten(
            "writeback_rows_moved",
            f'"{self.display}" changed since these rows shipped: {what} Put the rows back as '
            "they were and retry the write-back, or copy the tracking numbers from the job "
            "into the file.",
            keys=sorted(refused),
            source=self.display,
        )

    def check_write_back(self) -> None:
        """Refuse a file that ShipOps may read but not replace (file or folder not writable).

        A file nobody may write (no write permission bit set) counts as read-only
        even where ShipOps runs as root, who could replace it: its owner locked it.
        """
        path = self.path()
        locked = not path.stat().st_mode & WRITE_BITS
        if locked or not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK | os.X_OK)):
            raise SourceError(
                "source_read_only",
                f'"{self.display}" or its folder is read-only, so ShipOps could not write '
                "tracking numbers into it: make it writable, then try again.",
                source=self.display,
            )

    def write_back(self, updates: Sequence[WriteBack]) -> None:
        """Rewrite the file once with every update: atomically, under the file's lock."""
        if not updates:
            return
        by_key = index_updates(updates, self.display)
        path = self.path()
        try:
            self._write_back(path, by_key)
        except OSError as error:
            raise SourceError(
                "writeback_failed",
                f'"{self.display}" could not be written: {error.strerror or error}.',
                source=self.display,
            ) from error

    def _write_back(self, path: Path, by_key: dict[str, WriteBack]) -> None:
        with file_lock(path, display=self.display):
            self.check_write_back()  # made read-only since the job was approved: left as it is
            before = file_signature(path)
            # Rows found by number are written only where they still hold what shipped.
            unmatched: list[str] = []
            shifted = False
            if not self.source.key_column.strip():
                unmatched, shifted = self._unmatched_rows(path, before, by_key)
            refused = set(by_key) if shifted else set(unmatched)
            writable = {key: update for key, update in by_key.items() if key not in refused}
            if writable:
                self._replace(path, before, writable)
        if refused:
            raise self._refusal(unmatched, refused, shifted)

    def _replace(self, path: Path, before: FileSignature, by_key: dict[str, WriteBack]) -> None:
        new_index: FileIndex | None = None

        def write(out: IO[bytes]) -> None:
            nonlocal new_index
            new_index = self._rewrite(path, before, by_key, out)

        after = atomic_write(path, write, expected=before, display=self.display)
        if new_index is not None:
            INDEXES.put(self._cache_name(path), after, new_index)
