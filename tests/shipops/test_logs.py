"""Log lines are JSON and never carry a secret or a bearer token."""

from __future__ import annotations

import json
import logging

import pytest
from django.conf import LazySettings

from shipops.logs import JsonFormatter, RedactSecretsFilter, redact


def _record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("ups.client", logging.WARNING, __file__, 1, message, args, None)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


@pytest.mark.parametrize(
    "text",
    [
        "Authorization: Bearer eyJhbGciOi.abc-123_x",
        'body={"access_token": "abc123secret", "expires_in": "14399"}',
        "client_secret=s3cr3tvalue&grant_type=client_credentials",
        "Authorization: Basic c2FuZGJveDpzZWNyZXQ=",
    ],
)
def test_redact_masks_tokens_and_credentials(text: str) -> None:
    masked = redact(text)
    assert "[redacted]" in masked
    for secret in ("eyJhbGciOi", "abc123secret", "s3cr3tvalue", "c2FuZGJveDpzZWNyZXQ="):
        assert secret not in masked


def test_configured_secret_is_masked_wherever_it_appears(settings: LazySettings) -> None:
    settings.UPS_CLIENT_SECRET = "very-private-value"
    record = _record("token call failed for %s", "very-private-value")
    assert RedactSecretsFilter().filter(record)
    assert record.getMessage() == "token call failed for [redacted]"


def test_json_formatter_writes_one_object_with_extras() -> None:
    line = JsonFormatter().format(_record("shipped row %d", 7, job_id=12))
    payload = json.loads(line)
    assert payload["message"] == "shipped row 7"
    assert payload["job_id"] == 12
    assert payload["level"] == "WARNING"
    assert payload["time"].endswith("+00:00")
