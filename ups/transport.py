"""One pooled HTTP session to UPS: timeouts, trace headers, classification and retries."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import requests
from django.views.decorators.debug import sensitive_variables
from requests.auth import AuthBase
from urllib3.util.retry import Retry

from ups.answers import MalformedAnswer
from ups.backoff import retry_delay
from ups.classify import (
    NEVER_SENT,
    CallInfo,
    error_from_answer,
    error_from_exception,
    error_from_malformed,
)
from ups.config import UpsConfig
from ups.credentials import BearerAuth
from ups.errors import UpsTransientError
from ups.sent_signal import SignallingAdapter

logger = logging.getLogger("ups")
T = TypeVar("T")
POOL_SIZE = 16


@dataclass(frozen=True)
class HttpCall:
    """One request to UPS; ``side_effect`` calls (ship) are never resent after leaving."""

    what: str
    method: str
    url: str
    side_effect: bool = False
    params: dict[str, str] | None = None
    json_body: dict[str, Any] | None = None
    form: dict[str, str] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # The client credentials of the token call; other calls get the bearer token.
    credentials: AuthBase | None = field(default=None, repr=False)


def _describe_unreadable(response: requests.Response) -> str:
    content = response.content.lstrip()
    if not content:
        return "the answer was empty"
    if "html" in response.headers.get("Content-Type", "").lower() or content.startswith(b"<"):
        return "UPS sent an HTML page instead of JSON"
    return "the JSON was truncated or invalid"


def _json_or_none(response: requests.Response) -> Any:
    try:
        return json.loads(response.content)
    except ValueError:
        return None


class Transport:
    """Sends ``HttpCall``s; retries transient failures of calls without side effects."""

    def __init__(self, config: UpsConfig) -> None:
        self.config = config
        self.session = requests.Session()
        # No retries below this class: it alone decides what may be sent twice.
        # Its connections tell a waiting thread when a request has left (sent_signal).
        adapter = SignallingAdapter(
            pool_connections=2,
            pool_maxsize=POOL_SIZE,
            max_retries=Retry(total=0, read=False, redirect=False),
        )
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)

    def close(self) -> None:
        """Close the pooled connections."""
        self.session.close()

    @sensitive_variables("token")
    def perform(self, call: HttpCall, parse: Callable[[Any], T], *, token: str = "") -> T:
        """Send ``call`` and return ``parse(json)``, retrying transient failures if allowed.

        A call with a side effect (ship) is sent again only when the connection
        never opened: then the request provably never left this machine.
        """
        attempt = 0
        while True:
            try:
                return self._attempt(call, parse, token)
            except UpsTransientError as error:
                delay = None
                may_resend = not call.side_effect or error.code == NEVER_SENT
                if may_resend and attempt < self.config.max_retries:
                    delay = retry_delay(
                        attempt,
                        base=self.config.retry_backoff,
                        max_wait=self.config.retry_max_wait,
                        retry_after=error.retry_after,
                    )
                if delay is None:
                    raise
                attempt += 1
                logger.warning(
                    "UPS %s failed (%s); retry %d of %d in %.2f s.",
                    call.what,
                    error.message,
                    attempt,
                    self.config.max_retries,
                    delay,
                    extra={"ups_code": error.code, "trans_id": error.trans_id},
                )
                time.sleep(delay)

    @sensitive_variables("token", "auth")
    def _attempt(self, call: HttpCall, parse: Callable[[Any], T], token: str) -> T:
        trans_id = uuid.uuid4().hex  # 32 characters: UPS's maximum
        headers = {
            "transId": trans_id,
            "transactionSrc": self.config.transaction_src,
            "Accept": "application/json",
            **call.headers,
        }
        # The secrets travel inside auth objects: no local variable ever holds them in clear.
        auth = call.credentials or (BearerAuth(token) if token else None)
        info = CallInfo(
            what=call.what,
            side_effect=call.side_effect,
            auth=call.credentials is not None,
            trans_id=trans_id,
            read_timeout=self.config.read_timeout,
        )
        started = time.monotonic()
        try:
            response = self.session.request(
                call.method,
                call.url,
                params=call.params,
                json=call.json_body,
                data=call.form,
                headers=headers,
                auth=auth,
                timeout=self.config.timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise error_from_exception(exc, info) from None
        logger.debug(
            "UPS %s answered HTTP %d in %.0f ms.",
            call.what,
            response.status_code,
            (time.monotonic() - started) * 1000,
            extra={"trans_id": trans_id},
        )
        body = _json_or_none(response)
        if not 200 <= response.status_code < 300:
            raise error_from_answer(response.status_code, body, response.headers, info)
        if body is None:
            raise error_from_malformed(_describe_unreadable(response), response.status_code, info)
        try:
            return parse(body)
        except MalformedAnswer as exc:
            raise error_from_malformed(str(exc), response.status_code, info) from None
