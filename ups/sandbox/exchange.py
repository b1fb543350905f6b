"""The sandbox's view of one HTTP exchange: the request it read, the reply it sends."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Error codes the sandbox answers with, shaped like UPS's (docs/ups.md lists them).
NOT_WELL_FORMED = ("10001", "The request body is not well-formed JSON.")
NOT_VALID = "10002"
TOO_MANY_REQUESTS = ("10429", "Too Many Requests.")
SERVER_ERROR = ("10500", "Internal Server Error.")
UNAVAILABLE = ("10503", "Service Unavailable. Please try again later.")
BAD_CREDENTIALS = ("10401", "ClientId is Invalid")
BAD_GRANT = ("10400", "Invalid/Missing grant type")
INVALID_TOKEN = ("250002", "Invalid Authentication Information.")
NO_SUCH_PATH = ("10404", "The requested resource was not found.")
SERVICE_UNAVAILABLE_ON_LANE = (
    "111210",
    "The requested service is unavailable between the selected locations.",
)
BAD_REQUEST_OPTION = ("111500", "The selected request option is not valid.")
ADDRESS_REJECTED = ("120802", "Address Validation Error on ShipTo address")
BAD_POSTAL_CODE = ("120208", "Missing or invalid ship to postal code.")
BAD_LABEL = ("120500", "Invalid or unsupported label image format or stock size.")
VOID_UNKNOWN = ("190117", "The shipment identification number is not valid.")
VOID_PACKAGE_UNKNOWN = ("190101", "A tracking number does not belong to the shipment.")
NO_LABEL = ("190202", "No label was found for the tracking number.")
LABEL_OF_VOIDED = ("190203", "The shipment was voided: its label cannot be recovered.")
TRACKING_NOT_FOUND = ("TW0001", "Tracking Information Not Found")
BAD_INQUIRY = ("TV0001", "Invalid inquiry number.")
BAD_PICKUP_DATE = ("TV0002", "Pickup dates are written YYYYMMDD.")
XAV_COUNTRY = ("264002", "Country code is invalid or unsupported.")


@dataclass(frozen=True)
class SandboxRequest:
    """One request as the sandbox read it; header names are looked up case-insensitively."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """Return a header's value, or None."""
        return self.headers.get(name.lower())

    def json(self) -> Any:
        """Return the body as JSON, raising ValueError when it is not."""
        return json.loads(self.body)


@dataclass(frozen=True)
class ApiCall:
    """A UPS call that passed authentication and the schema check."""

    request: SandboxRequest
    params: Mapping[str, str]
    body: Any = None


@dataclass(frozen=True)
class Reply:
    """What the sandbox answers."""

    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = field(default=())

    @classmethod
    def json(cls, status: int, data: Any, headers: tuple[tuple[str, str], ...] = ()) -> Reply:
        """Return a JSON reply."""
        return cls(status, json.dumps(data).encode(), "application/json", headers)


def ups_error(
    status: int, error: tuple[str, str], *, headers: tuple[tuple[str, str], ...] = ()
) -> Reply:
    """Return UPS's error shape: ``{"response": {"errors": [{"code", "message"}]}}``."""
    code, message = error
    return ups_errors(status, [(code, message)], headers=headers)


def ups_errors(
    status: int, errors: list[tuple[str, str]], *, headers: tuple[tuple[str, str], ...] = ()
) -> Reply:
    """Return UPS's error shape with several errors."""
    items = [{"code": code, "message": message} for code, message in errors]
    return Reply.json(status, {"response": {"errors": items}}, headers)
