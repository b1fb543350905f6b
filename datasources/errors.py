"""The one error type for problems with a whole source (file or table), not with one row."""

from __future__ import annotations

from typing import Any

from shipops.errors import DomainError


class SourceError(DomainError):
    """A source cannot be read or written; ``message`` names the file or table for the operator."""

    def __init__(
        self, code: str, message: str, *, source: str = "", details: dict[str, Any] | None = None
    ):
        super().__init__(code, message, details={"source": source, **(details or {})})
        self.source = source
