"""The four kinds of UPS failure the rest of ShipOps can act on.

- ``UpsDefinitiveError``: UPS refused the request; sending it again changes nothing.
- ``UpsTransientError``: UPS was busy or unreachable and did not act; safe to retry.
- ``UpsOutcomeUnknownError``: a ship request left this machine and no usable answer
  came back; the shipment may exist. Never resend it blindly.
- ``UpsAuthError``: the credentials or the token were refused, or are missing.

Messages are sentences for operators and never carry a secret or a token.
"""

from __future__ import annotations

from typing import Any

from shipops.logs import redact


class UpsError(Exception):
    """A UPS call failed; ``code`` is stable for programs, ``message`` is for people."""

    kind = "error"

    def __init__(
        self,
        code: str,
        message: str,
        *,
        http_status: int | None = None,
        trans_id: str = "",
    ) -> None:
        message = redact(message)
        super().__init__(message)
        self.code = code
        self.message = message
        self.http_status = http_status
        self.trans_id = trans_id

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"

    def as_dict(self) -> dict[str, Any]:
        """Return the error as plain data for audit entries and JSON answers."""
        return {
            "kind": self.kind,
            "code": self.code,
            "message": self.message,
            "http_status": self.http_status,
            "trans_id": self.trans_id,
        }


class UpsDefinitiveError(UpsError):
    """UPS refused the request (bad address, unknown service...): its code and message kept."""

    kind = "definitive"


class UpsTransientError(UpsError):
    """UPS did not act on the request (429, 503, unreachable); it is safe to send it again."""

    kind = "transient"

    def __init__(self, *args: Any, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.retry_after = retry_after

    def as_dict(self) -> dict[str, Any]:
        """Return the error as plain data, with the wait UPS asked for."""
        return {**super().as_dict(), "retry_after": self.retry_after}


class UpsOutcomeUnknownError(UpsError):
    """A ship request was sent and no usable answer came back; the shipment may exist."""

    kind = "outcome_unknown"


class UpsAuthError(UpsError):
    """UPS refused the credentials or the token, or they are not configured."""

    kind = "auth"
