"""UPS's paths in the sandbox, and the checks every call passes first.

Order of the checks, as at UPS: credentials or bearer token (401), then the
body's syntax (400 10001), then the official schema (400 10002, one error per
violation), and only then the endpoint's own rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

from ups import schemas
from ups.sandbox import exchange
from ups.sandbox.addresses import handle_xav
from ups.sandbox.exchange import ApiCall, Reply, SandboxRequest, ups_error, ups_errors
from ups.sandbox.label_recovery import handle_label_recovery
from ups.sandbox.oauth import check_basic, check_bearer, handle_token
from ups.sandbox.rating import handle_rate
from ups.sandbox.shipping import handle_ship, handle_void
from ups.sandbox.state import SandboxState
from ups.sandbox.tracking import handle_track, handle_track_by_reference

Handler = Callable[[SandboxState, ApiCall], Reply]
TRANS_ID_MAX_LENGTH = 32


@dataclass(frozen=True)
class Route:
    """One UPS operation: our endpoint name, its URL pattern and its spec operation."""

    endpoint: str
    method: str
    pattern: str
    api: str
    handler: Handler
    regex: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.pattern)
        object.__setattr__(self, "regex", re.compile(f"^{regex}$"))

    @property
    def spec_path(self) -> str:
        """Return the path as the spec writes it (API paths sit under /api)."""
        return self.pattern.removeprefix("/api")

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """Return the path parameters when ``method path`` is this route."""
        found = self.regex.match(path) if method == self.method else None
        return {key: unquote(value) for key, value in found.groupdict().items()} if found else None


ROUTES = (
    Route("token", "POST", "/security/v1/oauth/token", "oauth", handle_token),
    Route("rate", "POST", "/api/rating/{version}/{requestoption}", "rating", handle_rate),
    Route("ship", "POST", "/api/shipments/{version}/ship", "shipping", handle_ship),
    Route(
        "void",
        "DELETE",
        "/api/shipments/{version}/void/cancel/{shipmentidentificationnumber}",
        "shipping",
        handle_void,
    ),
    Route("label", "POST", "/api/labels/{version}/recovery", "shipping", handle_label_recovery),
    Route("xav", "POST", "/api/addressvalidation/{version}/{requestoption}", "xav", handle_xav),
    Route("track", "GET", "/api/track/v1/details/{inquiryNumber}", "tracking", handle_track),
    Route(
        "track",
        "GET",
        "/api/track/v1/reference/details/{referenceNumber}",
        "tracking",
        handle_track_by_reference,
    ),
)


def find_route(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """Return the route of ``method path`` and its path parameters, or None."""
    for route in ROUTES:
        params = route.match(method, path)
        if params is not None:
            return route, params
    return None


def _body(route: Route, request: SandboxRequest) -> tuple[Any, Reply | None]:
    if route.method != "POST" or not request.body.strip():
        return None, None
    if route.endpoint == "token":
        return dict(parse_qsl(request.body.decode("utf-8", "replace"))), None
    try:
        return request.json(), None
    except ValueError:
        return None, ups_error(400, exchange.NOT_WELL_FORMED)


def handle(
    state: SandboxState, route: Route, request: SandboxRequest, params: dict[str, str]
) -> Reply:
    """Answer one UPS call: authenticate, parse, check against the spec, then serve."""
    denied = (check_basic if route.endpoint == "token" else check_bearer)(state, request)
    if denied is not None:
        return denied
    body, refusal = _body(route, request)
    if refusal is not None:
        return refusal
    operation = schemas.operation(route.api, route.method, route.spec_path)
    problems = operation.check(
        path_params=params, query=request.query, headers=request.headers, body=body
    )
    trans_id = request.header("transId")
    if trans_id is not None and len(trans_id) > TRANS_ID_MAX_LENGTH:
        problems.append(
            f"header parameter transId: is longer than {TRANS_ID_MAX_LENGTH} characters"
        )
    if problems:
        return ups_errors(
            400, [(exchange.NOT_VALID, f"Invalid request: {problem}") for problem in problems]
        )
    return route.handler(state, ApiCall(request, params, body))
