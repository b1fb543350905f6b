"""No secret and no bearer token in logs, exceptions, audit data or error pages."""

from __future__ import annotations

import base64
import logging
import traceback
from collections.abc import Callable

import pytest
from django.conf import LazySettings
from django.core.cache import cache
from django.views.debug import ExceptionReporter

from tests.fixtures.ups_sandbox import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SandboxController
from tests.ups.conftest import shipment
from ups import auth
from ups.client import UpsClient
from ups.config import UpsConfig
from ups.errors import UpsError


def current_token() -> str:
    with auth._memory_lock:
        [token] = auth._memory.values()
    return str.__str__(token.value)


def forbidden(tokens: list[str]) -> list[str]:
    basic = base64.b64encode(f"{SANDBOX_CLIENT_ID}:{SANDBOX_CLIENT_SECRET}".encode()).decode()
    return [SANDBOX_CLIENT_SECRET, basic, *tokens]


def error_of(call: Callable[[], object]) -> UpsError:
    with pytest.raises(UpsError) as caught:
        call()
    return caught.value


def everything_shown(error: UpsError, *, debug: bool, settings: LazySettings) -> str:
    """Return what logs, audit entries and error pages could show of ``error``."""
    settings.DEBUG = debug
    reporter = ExceptionReporter(None, type(error), error, error.__traceback__)
    return "\n".join(
        [
            str(error),
            repr(error),
            str(error.as_dict()),
            "".join(traceback.format_exception(error)),
            reporter.get_traceback_html(),
            reporter.get_traceback_text(),
        ]
    )


def test_no_secret_or_token_is_ever_shown(
    ups_sandbox: SandboxController,
    settings: LazySettings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    client = UpsClient(read_timeout=0.5)
    client.rate(shipment())
    tokens = [current_token()]
    ups_sandbox.revoke_tokens()
    client.ship(shipment())  # a 401, then a fresh token
    tokens.append(current_token())
    ups_sandbox.set_fault("http_503", endpoint="rate", count=1)
    client.rate(shipment())  # a logged retry
    errors = []
    ups_sandbox.set_fault("timeout_after_ship", count=1, hold_seconds=3)
    errors.append(error_of(lambda: client.ship(shipment())))
    ups_sandbox.set_fault("drop_connection", endpoint="track", count=4)
    errors.append(error_of(lambda: client.track("1Z999AA10123456784")))
    ups_sandbox.set_fault("expired_token", count=2)
    errors.append(error_of(lambda: client.void("1ZA1B2C30399999997")))
    tokens.append(current_token())
    errors.append(error_of(lambda: UpsClient(client_secret="wrong-secret").rate(shipment())))

    shown = [record.getMessage() for record in caplog.records]
    shown += [str(record.__dict__) for record in caplog.records]
    for error in errors:
        shown.append(everything_shown(error, debug=True, settings=settings))
        shown.append(everything_shown(error, debug=False, settings=settings))
    shown += [repr(client), repr(client.config), repr(client.tokens.get())]
    shown.append(str(ups_sandbox.requests()))
    shown.append(UpsConfig.from_settings().token_cache_key)

    assert {type(error).__name__ for error in errors} == {
        "UpsOutcomeUnknownError",
        "UpsTransientError",
        "UpsAuthError",
    }
    text = "\n".join(shown)
    for secret in forbidden(tokens):
        assert secret not in text


def test_the_cached_value_holds_the_token_but_not_the_secret(
    client: UpsClient,
) -> None:
    client.rate(shipment())

    stored = cache.get(client.config.token_cache_key)

    assert stored["value"] == current_token()
    assert SANDBOX_CLIENT_SECRET not in str(stored)
