"""A process-wide index per file version, so re-reading one row or flushing again is cheap.

The batch engine asks for one row's checksum before shipping it, and flushes
tracking numbers every few seconds; reading a 10,000-row file each time would
make a batch quadratic. An index (key -> checksum, and for workbooks where
each row sits) is rebuilt only when the file's signature (mtime, size,
inode) changes; after our own write-back, which changes no checksum and
moves no row, the index is stored again under the new file's signature.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

from datasources.atomic import FileSignature

MAX_FILES = 16


@dataclass
class FileIndex:
    """What one full read of a file learned: checksums by key, and kind-specific layout."""

    checksums: dict[str, str] = field(default_factory=dict)
    positions: dict[str, int] = field(default_factory=dict)
    layout: Any = None


class IndexCache:
    """A small LRU of file indexes, each valid for one file signature."""

    def __init__(self, size: int = MAX_FILES):
        self.size = size
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, tuple[FileSignature, FileIndex]] = OrderedDict()

    def get(self, name: Hashable, signature: FileSignature) -> FileIndex | None:
        """Return the index stored for ``name`` if it was built from this file version."""
        with self._lock:
            entry = self._entries.get(name)
            if entry is None or entry[0] != signature:
                return None
            self._entries.move_to_end(name)
            return entry[1]

    def put(self, name: Hashable, signature: FileSignature, index: FileIndex) -> None:
        """Store the index built from the file version ``signature``."""
        with self._lock:
            self._entries[name] = (signature, index)
            self._entries.move_to_end(name)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


INDEXES = IndexCache()
