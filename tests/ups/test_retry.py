"""The retry policy: reads retry transient errors, a ship request is never resent blindly."""

from __future__ import annotations

import threading
import time

import pytest
from django.conf import LazySettings

from tests.fixtures.ups_sandbox import (
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    SandboxController,
)
from tests.ups.conftest import RECIPIENT, shipment
from tests.ups.test_errors import free_port
from ups.backoff import parse_retry_after, retry_delay
from ups.classify import NOT_SENT_IN_TIME
from ups.client import UpsClient
from ups.errors import UpsOutcomeUnknownError, UpsTransientError
from ups.sandbox.server import SandboxServer


@pytest.mark.parametrize("kind", ["http_503", "http_500", "http_429", "drop_connection"])
def test_reads_retry_transient_errors_until_they_pass(
    client: UpsClient, ups_sandbox: SandboxController, kind: str
) -> None:
    ups_sandbox.set_fault(kind, endpoint="rate", count=2, retry_after=0)

    assert client.rate(shipment()).total_cents > 0
    assert ups_sandbox.calls("rate") == 3


def test_a_read_timeout_on_a_read_is_retried(ups_sandbox: SandboxController) -> None:
    ups_sandbox.set_fault("timeout", endpoint="xav", count=1, hold_seconds=3)

    result = UpsClient(read_timeout=0.3).validate_address(shipment().ship_to)

    assert result.indicator == "valid"
    assert ups_sandbox.calls("xav") == 2


def test_retries_are_bounded(ups_sandbox: SandboxController, settings: LazySettings) -> None:
    settings.UPS_MAX_RETRIES = 2
    ups_sandbox.set_fault("http_503", endpoint="track")

    with pytest.raises(UpsTransientError):
        UpsClient().track("1Z999AA10123456784")

    assert ups_sandbox.calls("track") == 3


def test_the_token_call_is_retried_too(client: UpsClient, ups_sandbox: SandboxController) -> None:
    ups_sandbox.set_fault("http_503", endpoint="token", count=1)

    assert client.rate(shipment()).total_cents > 0
    assert ups_sandbox.calls("token") == 2


def test_retry_after_is_honoured(client: UpsClient, ups_sandbox: SandboxController) -> None:
    ups_sandbox.set_fault("http_429", endpoint="rate", count=1, retry_after=1)
    client.validate_address(shipment().ship_to)  # the token is fetched before timing
    started = time.monotonic()

    client.rate(shipment())

    assert time.monotonic() - started >= 1.0
    assert ups_sandbox.calls("rate") == 2


def test_a_retry_after_longer_than_the_longest_wait_gives_up_at_once(
    client: UpsClient, ups_sandbox: SandboxController
) -> None:
    ups_sandbox.set_fault("http_429", endpoint="rate", retry_after=60)

    with pytest.raises(UpsTransientError) as caught:
        client.rate(shipment())

    assert caught.value.retry_after == 60
    assert ups_sandbox.calls("rate") == 1


def test_ship_is_not_resent_after_a_rate_limit(
    client: UpsClient, ups_sandbox: SandboxController
) -> None:
    ups_sandbox.set_fault("http_429", endpoint="ship", count=1, retry_after=0)

    with pytest.raises(UpsTransientError):
        client.ship(shipment())

    assert ups_sandbox.calls("ship") == 1
    assert ups_sandbox.ledger() == []


def test_the_third_ship_call_times_out_and_only_it_is_unknown(
    ups_sandbox: SandboxController,
) -> None:
    ups_sandbox.set_fault("timeout_after_ship", after=2, count=1, hold_seconds=5)
    client = UpsClient(read_timeout=0.5)
    client.ship(shipment("ROW-1"))
    client.ship(shipment("ROW-2"))

    with pytest.raises(UpsOutcomeUnknownError):
        client.ship(shipment("ROW-3"))
    client.ship(shipment("ROW-4"))

    assert [entry["reference"] for entry in ups_sandbox.ledger()] == [
        "ROW-1",
        "ROW-2",
        "ROW-3",
        "ROW-4",
    ]
    assert ups_sandbox.calls("ship") == 4


def test_ship_is_resent_when_the_connection_never_opened(
    ups_sandbox: SandboxController, settings: LazySettings
) -> None:
    port = free_port()
    settings.UPS_SANDBOX_URL = f"http://127.0.0.1:{port}"
    settings.UPS_RETRY_BACKOFF = 0.2
    settings.UPS_MAX_RETRIES = 5
    credentials = (SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET)
    with SandboxServer(port=port, credentials=credentials) as before_the_outage:
        client = UpsClient()
        client.validate_address(RECIPIENT)  # the token is cached before UPS goes away
    late = SandboxServer(port=port, credentials=credentials)
    late.state.tokens = before_the_outage.state.tokens  # the same UPS, back again
    opening = threading.Timer(0.3, late.start)
    opening.start()
    started = time.monotonic()
    try:
        result = client.ship(shipment("ROW-LATE"))
    finally:
        opening.join()
        late.stop()

    assert time.monotonic() - started >= 0.3  # the first attempts found no UPS
    assert late.state.log.counts() == {"ship": 1}
    [entry] = late.state.ledger.find(reference="ROW-LATE")
    assert entry.tracking_number == result.tracking_number


def test_backoff_doubles_with_jitter_and_respects_retry_after() -> None:
    delays = [retry_delay(attempt, base=1.0, max_wait=30.0) for attempt in range(4)]

    for attempt, delay in enumerate(delays):
        assert delay is not None
        assert 2**attempt / 2 <= delay <= 2**attempt
    assert retry_delay(0, base=1.0, max_wait=30.0, retry_after=5) == 5
    assert retry_delay(0, base=1.0, max_wait=30.0, retry_after=31) is None
    capped = retry_delay(10, base=1.0, max_wait=4.0)
    assert capped is not None
    assert capped <= 4.0


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_a_ship_request_whose_token_comes_too_late_is_never_sent(
    ups_sandbox: SandboxController,
) -> None:
    client = UpsClient(ship_send_seconds=0.3)
    ups_sandbox.set_fault("latency", endpoint="token", ms=800)

    with pytest.raises(UpsTransientError) as late:
        client.ship(shipment("ROW-LATE"))

    assert late.value.code == NOT_SENT_IN_TIME
    assert "was not sent, so UPS never received it" in late.value.message
    assert ups_sandbox.calls("ship") == 0
    assert ups_sandbox.ledger() == []


def test_a_ship_request_is_not_resent_after_its_deadline(client: UpsClient) -> None:
    client.authenticate()
    nobody = f"http://127.0.0.1:{free_port()}"  # no UPS there: every connection is refused
    unreachable = UpsClient(host=nobody, retry_backoff=0.2, max_retries=20, ship_send_seconds=0.5)
    unreachable.tokens = client.tokens  # a valid token in hand: only the ship call is left
    started = time.monotonic()

    with pytest.raises(UpsTransientError) as held:
        unreachable.ship(shipment("ROW-LATE"))

    assert held.value.code == NOT_SENT_IN_TIME  # not the 20 retries' UPS_UNREACHABLE
    assert "the last try failed: " in held.value.message  # the cause is kept
    assert time.monotonic() - started >= 0.1  # it did retry (a first wait) before giving up


def test_no_retry_waits_past_the_deadline(client: UpsClient) -> None:
    client.authenticate()
    nobody = f"http://127.0.0.1:{free_port()}"
    # The first retry would wait 5 to 10 s; the request must leave within 5 s.
    unreachable = UpsClient(
        host=nobody, retry_backoff=10, retry_max_wait=30, max_retries=3, ship_send_seconds=5
    )
    unreachable.tokens = client.tokens
    started = time.monotonic()

    with pytest.raises(UpsTransientError) as held:
        unreachable.ship(shipment("ROW-LATE"))

    assert held.value.code == NOT_SENT_IN_TIME
    assert time.monotonic() - started < 5  # it gave up at once, without the wait


def test_the_send_deadline_counts_from_when_the_row_was_marked_in_flight(
    client: UpsClient, ups_sandbox: SandboxController
) -> None:
    client.authenticate()
    prepared = client.prepare_ship(shipment("ROW-MARKED"))
    marked_long_ago = time.monotonic() - client.config.ship_send_seconds - 1

    with pytest.raises(UpsTransientError) as late:
        client.send_ship(prepared, marked_at=marked_long_ago)
    assert late.value.code == NOT_SENT_IN_TIME
    assert ups_sandbox.ledger() == []

    result = client.send_ship(prepared, marked_at=time.monotonic())
    [entry] = ups_sandbox.ledger(reference="ROW-MARKED")
    assert entry["tracking_number"] == result.tracking_number
