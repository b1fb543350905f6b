"""Sort every failed UPS call into one of the four kinds of ``ups.errors``.

The question that decides between transient and outcome unknown is whether
the request may have reached UPS. Only a failure to open the connection
proves it did not: then even a ship request may be sent again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NameResolutionError

from ups.backoff import parse_retry_after
from ups.errors import (
    UpsAuthError,
    UpsDefinitiveError,
    UpsError,
    UpsOutcomeUnknownError,
    UpsTransientError,
)

MESSAGE_LIMIT = 300
NEVER_SENT = "UPS_UNREACHABLE"  # the code of the one failure that proves nothing left
NOT_SENT_IN_TIME = "UPS_NOT_SENT_IN_TIME"  # a ship request held past its send deadline
LOOK_IT_UP = (
    "the shipment may or may not have been created. Look it up by its reference "
    "before shipping again."
)
# Raised while preparing the request: it never left this machine, and never will.
NOT_SENDABLE = (
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
    requests.exceptions.InvalidURL,
    requests.exceptions.InvalidHeader,
    requests.exceptions.URLRequired,
)


@dataclass(frozen=True)
class CallInfo:
    """What the classifier needs to know about the call that failed."""

    what: str
    side_effect: bool = False
    auth: bool = False
    trans_id: str = ""
    read_timeout: float = 0.0


def ups_errors(body: Any) -> list[tuple[str, str]]:
    """Return the ``(code, message)`` pairs of a UPS error answer, if it is one."""
    response = body.get("response") if isinstance(body, dict) else None
    errors = response.get("errors") if isinstance(response, dict) else None
    if isinstance(errors, dict):
        errors = [errors]
    if not isinstance(errors, list):
        return []
    pairs = []
    for item in errors:
        if isinstance(item, dict):
            code = str(item.get("code") or "").strip()
            message = " ".join(str(item.get("message") or "").split())[:MESSAGE_LIMIT]
            if code or message:
                pairs.append((code, message))
    return pairs


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


def _never_left(exc: requests.RequestException) -> str | None:
    """Return why the connection never opened, or None when the request may have left."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "the connection timed out"
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    if isinstance(reason, NameResolutionError):
        return "the host name was not found"
    if isinstance(reason, ConnectTimeoutError):  # NewConnectionError: refused, unreachable
        return "the connection was refused"
    return None


def error_from_exception(exc: requests.RequestException, call: CallInfo) -> UpsError:
    """Classify a request that got no HTTP answer at all."""
    ids: dict[str, Any] = {"trans_id": call.trans_id}
    if isinstance(exc, NOT_SENDABLE):
        return UpsDefinitiveError(
            "UPS_BAD_URL",
            f"The {call.what} could not be sent: the UPS address is not valid "
            "(check UPS_ENV and UPS_SANDBOX_URL).",
            **ids,
        )
    never = _never_left(exc)
    if never:
        return UpsTransientError(
            NEVER_SENT, f"UPS could not be reached ({never}); the {call.what} was not sent.", **ids
        )
    if isinstance(exc, requests.exceptions.ReadTimeout):
        code, what_happened = (
            "UPS_TIMEOUT",
            f"UPS did not answer the {call.what} within {call.read_timeout:g} "
            f"second{'' if call.read_timeout == 1 else 's'}",
        )
    else:
        code, what_happened = (
            "UPS_CONNECTION_LOST",
            f"The connection to UPS broke before the answer to the {call.what} arrived",
        )
    if call.side_effect:
        return UpsOutcomeUnknownError(code, f"{what_happened}; {LOOK_IT_UP}", **ids)
    return UpsTransientError(code, f"{what_happened}.", **ids)


def error_from_answer(
    status: int, body: Any, headers: Mapping[str, str], call: CallInfo
) -> UpsError:
    """Classify an HTTP answer whose status is not a success."""
    pairs = ups_errors(body)
    code = pairs[0][0] if pairs and pairs[0][0] else f"HTTP_{status}"
    said = "; ".join(message for _, message in pairs if message)
    because = f": {_sentence(said)}" if said else "."
    ids: dict[str, Any] = {"http_status": status, "trans_id": call.trans_id}
    if status == 429:
        retry_after = parse_retry_after(headers.get("Retry-After"))
        wait = (
            f" UPS asks to wait {retry_after:g} second{'' if retry_after == 1 else 's'}."
            if retry_after is not None
            else ""
        )
        return UpsTransientError(
            code,
            f"UPS is limiting requests (HTTP 429) and did not act on the {call.what}"
            f"{because}{wait}",
            retry_after=retry_after,
            **ids,
        )
    if status >= 500:
        if call.side_effect:
            return UpsOutcomeUnknownError(
                code,
                f"UPS answered the {call.what} with a server error (HTTP {status}); {LOOK_IT_UP}",
                **ids,
            )
        return UpsTransientError(
            code,
            f"UPS had a server error (HTTP {status}) on the {call.what}{because}",
            retry_after=parse_retry_after(headers.get("Retry-After")),
            **ids,
        )
    if call.auth:
        return UpsAuthError(
            code,
            f"UPS refused the client id and secret (HTTP {status}){because} "
            "Check UPS_CLIENT_ID and UPS_CLIENT_SECRET.",
            **ids,
        )
    if status == 401:
        return UpsAuthError(code, f"UPS refused the access token (HTTP 401){because}", **ids)
    if status == 403:
        return UpsAuthError(
            code,
            f"UPS refused access (HTTP 403){because} Check that the UPS application may use "
            "this API with this shipper number.",
            **ids,
        )
    if said:
        return UpsDefinitiveError(code, _sentence(said), **ids)
    return UpsDefinitiveError(
        code, f"UPS refused the {call.what} (HTTP {status}) without saying why.", **ids
    )


def error_from_malformed(detail: str, status: int, call: CallInfo) -> UpsError:
    """Classify a success answer that cannot be used (HTML, truncated JSON, missing fields)."""
    ids: dict[str, Any] = {"http_status": status, "trans_id": call.trans_id}
    if call.side_effect:
        return UpsOutcomeUnknownError(
            "UPS_BAD_RESPONSE",
            f"UPS's answer to the {call.what} could not be read ({detail}); {LOOK_IT_UP}",
            **ids,
        )
    if call.auth:
        return UpsTransientError(
            "UPS_BAD_RESPONSE",
            f"UPS's answer to the {call.what} held no usable token ({detail}).",
            **ids,
        )
    return UpsTransientError(
        "UPS_BAD_RESPONSE", f"UPS's answer to the {call.what} could not be read ({detail}).", **ids
    )
