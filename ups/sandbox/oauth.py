"""The sandbox's OAuth endpoint and its check of bearer tokens on every other call."""

from __future__ import annotations

import base64
import binascii
import time

from ups.sandbox import exchange
from ups.sandbox.exchange import ApiCall, Reply, SandboxRequest, ups_error
from ups.sandbox.state import SandboxState


def _basic_credentials(request: SandboxRequest) -> tuple[str, str] | None:
    scheme, _, encoded = (request.header("Authorization") or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, colon, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (client_id, secret) if colon and client_id and secret else None


def check_basic(state: SandboxState, request: SandboxRequest) -> Reply | None:
    """Return UPS's 401 unless the client credentials are right (any, if none configured)."""
    credentials = _basic_credentials(request)
    if credentials is None or (state.credentials and credentials != state.credentials):
        return ups_error(401, exchange.BAD_CREDENTIALS)
    return None


def handle_token(state: SandboxState, call: ApiCall) -> Reply:
    """Issue a bearer token (the credentials were checked before)."""
    if call.body.get("grant_type") != "client_credentials":
        return ups_error(400, exchange.BAD_GRANT)
    credentials = _basic_credentials(call.request)
    ttl = state.token_ttl
    return Reply.json(
        200,
        {
            "token_type": "Bearer",
            "issued_at": str(int(time.time() * 1000)),
            "client_id": credentials[0] if credentials else "",
            "access_token": state.tokens.issue(ttl),
            "scope": "",
            "expires_in": str(ttl),
            "refresh_count": "0",
            "status": "approved",
        },
    )


def bearer_token(request: SandboxRequest) -> str:
    """Return the bearer token a request carries, or an empty string."""
    scheme, _, token = (request.header("Authorization") or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def check_bearer(state: SandboxState, request: SandboxRequest) -> Reply | None:
    """Return UPS's 401 when the request has no valid token, else None."""
    if state.tokens.is_valid(bearer_token(request)):
        return None
    return ups_error(401, exchange.INVALID_TOKEN)
