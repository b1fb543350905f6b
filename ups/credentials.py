"""Secrets that never show themselves: in a repr, a traceback or a debug page."""

from __future__ import annotations

from requests import PreparedRequest
from requests.auth import AuthBase

REDACTED = "[redacted]"


class Masked(str):
    """A string holding a secret; its repr (used by tracebacks and debug pages) hides it."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"'{REDACTED}'"


class BearerAuth(AuthBase):
    """Adds ``Authorization: Bearer <token>`` to a request, holding the token masked."""

    def __init__(self, token: str) -> None:
        self._token = Masked(token)

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return f"<BearerAuth {REDACTED}>"
