"""One pooled HTTP session to UPS: timeouts, trace headers, classification and retries."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookiejar import DefaultCookiePolicy
from typing import Any, TypeVar

import requests
from django.views.decorators.debug import sensitive_variables
from requests.auth import AuthBase
from urllib3.util.retry import Retry

from ups.answers import MalformedAnswer
from ups.backoff import retry_delay
from ups.classify import (
    NEVER_SENT,
    NOT_SENT_IN_TIME,
    CallInfo,
    error_from_answer,
    error_from_exception,
    error_from_malformed,
)
from ups.config import UpsConfig
from ups.credentials import BearerAuth, Masked
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


@dataclass(frozen=True)
class Attempt:
    """One sending of an ``HttpCall``, built and ready: only the network is left to do.

    The executor builds the next ship call's attempt while the previous call
    is out, so that encoding and header work stay off the path between two
    calls (docs/performance.md). The session keeps no cookies, so a request
    built early misses none.
    """

    request: requests.PreparedRequest = field(repr=False)
    settings: dict[str, Any] = field(repr=False)
    info: CallInfo
    token: str = field(repr=False)  # the bearer token it carries ("" for the token call)


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
        # UPS's APIs authenticate by token, never by cookie. Keeping none also means
        # no thread ever changes the jar while another builds a request from it.
        self.session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))

    def close(self) -> None:
        """Close the pooled connections."""
        self.session.close()

    @sensitive_variables("token")
    def perform(
        self,
        call: HttpCall,
        parse: Callable[[Any], T],
        *,
        token: str = "",
        first: Attempt | None = None,
        send_by: float | None = None,
    ) -> T:
        """Send ``call`` and return ``parse(json)``, retrying transient failures if allowed.

        A call with a side effect (ship) is sent again only when the connection
        never opened: then the request provably never left this machine.
        ``first``, prepared beforehand for the same call and token, is the
        first attempt; every other attempt is prepared when it is sent. No
        attempt starts after ``send_by`` (``time.monotonic()``): such a call
        fails unsent, with ``NOT_SENT_IN_TIME``, at once rather than after a
        retry's wait that would end past it.
        """
        attempt = 0
        while True:
            if send_by is not None and time.monotonic() > send_by:
                raise self._not_sent_in_time(call, "what came first (an access token) took longer")
            try:
                ready = first if attempt == 0 and first and first.token == token else None
                return self._send(ready or self.prepare(call, token=token), parse)
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
                if send_by is not None and time.monotonic() + delay > send_by:
                    why = f"the last try failed: {error.message}"
                    raise self._not_sent_in_time(call, why) from error
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

    def _not_sent_in_time(self, call: HttpCall, why: str) -> UpsTransientError:
        """The error of a call whose send deadline passed before it could leave: ``why``."""
        return UpsTransientError(
            NOT_SENT_IN_TIME,
            f"The {call.what} was not sent, so UPS never received it: it must leave within "
            f"{self.config.ship_send_seconds:g} s of its row going in flight "
            f"(UPS_SHIP_SEND_SECONDS), and {why}",
        )

    @sensitive_variables("token", "auth")
    def prepare(self, call: HttpCall, *, token: str = "") -> Attempt:
        """Build one attempt of ``call``: its trace id, headers, encoded body and settings.

        Everything but the network: what ``Session.request`` does before it
        sends, done here so that it can be done ahead of time.
        """
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
        request = requests.Request(
            call.method,
            call.url,
            headers=headers,
            data=call.form or {},
            json=call.json_body,
            params=call.params or {},
            auth=auth,
        )
        try:
            prepared = self.session.prepare_request(request)
            # Proxies and certificates from the environment, as Session.request finds them.
            environment = self.session.merge_environment_settings(
                prepared.url, {}, None, None, None
            )
        except requests.RequestException as exc:
            raise error_from_exception(exc, info) from None
        settings = {"timeout": self.config.timeout, "allow_redirects": False, **environment}
        return Attempt(prepared, settings, info, Masked(token))

    def _send(self, ready: Attempt, parse: Callable[[Any], T]) -> T:
        info = ready.info
        started = time.monotonic()
        try:
            response = self.session.send(ready.request, **ready.settings)
        except requests.RequestException as exc:
            raise error_from_exception(exc, info) from None
        logger.debug(
            "UPS %s answered HTTP %d in %.0f ms.",
            info.what,
            response.status_code,
            (time.monotonic() - started) * 1000,
            extra={"trans_id": info.trans_id},
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
