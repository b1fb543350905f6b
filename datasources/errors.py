"""The one error type for problems with a whole source (file or table), not with one row."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shipops.errors import DomainError


class SourceError(DomainError):
    """A source cannot be read or written; ``message`` names the file or table for the operator."""

    def __init__(
        self, code: str, message: str, *, source: str = "", details: dict[str, Any] | None = None
    ):
        super().__init__(code, message, details={"source": source, **(details or {})})
        self.source = source


class RowsNotWritten(SourceError):
    """A write-back that refused some rows and wrote the others; ``keys`` names the refused."""

    def __init__(self, code: str, message: str, *, keys: Sequence[str], source: str = ""):
        super().__init__(code, message, source=source, details={"rows": list(keys)})
        self.keys = frozenset(keys)
