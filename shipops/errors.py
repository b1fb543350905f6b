"""The one domain error type: a stable code for programs and a sentence for operators."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A business rule refused an action; ``message`` is written for the person who asked."""

    def __init__(self, code: str, message: str, *, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}

    def __str__(self) -> str:
        return self.message

    def as_dict(self) -> dict[str, Any]:
        """Return the error in the JSON API's body shape."""
        return {"code": self.code, "message": self.message, "details": self.details}
