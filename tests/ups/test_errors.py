"""Each kind of error, produced by the sandbox over real HTTP."""

from __future__ import annotations

import pytest
from django.conf import LazySettings

from tests.fixtures.network import free_port
from tests.fixtures.ups_sandbox import SandboxController
from tests.ups.conftest import shipment
from ups.client import UpsClient
from ups.errors import (
    UpsAuthError,
    UpsDefinitiveError,
    UpsOutcomeUnknownError,
    UpsTransientError,
)
from ups.types import Address


def test_rejected_address_is_definitive_with_ups_code_and_message(
    client: UpsClient, ups_sandbox: SandboxController
) -> None:
    ups_sandbox.set_fault("reject_address", postal_codes=["62701"])

    with pytest.raises(UpsDefinitiveError) as caught:
        client.ship(shipment())

    error = caught.value
    assert (error.code, error.http_status) == ("120802", 400)
    assert error.message == "Address Validation Error on ShipTo address."
    assert ups_sandbox.ledger() == []
    assert ups_sandbox.calls("ship") == 1  # a refusal is never retried


def test_rejected_address_line_refuses_rating_too(
    client: UpsClient, ups_sandbox: SandboxController
) -> None:
    ups_sandbox.set_fault("reject_address", address_lines=["123 main st"], endpoint="rate")

    with pytest.raises(UpsDefinitiveError, match="Address Validation Error"):
        client.rate(shipment())
    assert client.ship(shipment()).tracking_number  # the fault targets rating only


def test_a_service_not_offered_on_the_lane_is_definitive(client: UpsClient) -> None:
    with pytest.raises(UpsDefinitiveError) as caught:
        client.rate(shipment(service_code="65"))

    assert caught.value.code == "111210"
    assert "unavailable between the selected locations" in caught.value.message


def test_voiding_an_unknown_shipment_is_definitive(client: UpsClient) -> None:
    with pytest.raises(UpsDefinitiveError) as caught:
        client.void("1ZA1B2C30399999997")

    assert caught.value.code == "190117"


def test_a_request_the_schema_refuses_is_definitive(client: UpsClient) -> None:
    too_long = Address("N" * 36, ("1 Main St",), "Springfield", "IL", "62701", "US")

    with pytest.raises(UpsDefinitiveError) as caught:
        client.ship(shipment(ship_to=too_long))

    assert caught.value.code == "10002"
    assert "ShipmentRequest.Shipment.ShipTo.Name" in caught.value.message
    assert "too long" in caught.value.message


def test_rate_limit_is_transient_with_the_wait_ups_asked_for(
    client: UpsClient, ups_sandbox: SandboxController, settings: LazySettings
) -> None:
    settings.UPS_MAX_RETRIES = 0
    ups_sandbox.set_fault("http_429", endpoint="rate", retry_after=7)

    with pytest.raises(UpsTransientError) as caught:
        UpsClient().rate(shipment())

    assert (caught.value.http_status, caught.value.retry_after) == (429, 7.0)
    assert "wait 7 seconds" in caught.value.message


def test_unavailable_is_transient_for_reads(
    ups_sandbox: SandboxController, settings: LazySettings
) -> None:
    settings.UPS_MAX_RETRIES = 1
    ups_sandbox.set_fault("http_503", endpoint="track")

    with pytest.raises(UpsTransientError) as caught:
        UpsClient().track("1Z999AA10123456784")

    assert caught.value.http_status == 503
    assert ups_sandbox.calls("track") == 2


def test_connection_refused_is_transient_and_says_nothing_was_sent(
    ups_sandbox: SandboxController, settings: LazySettings
) -> None:
    settings.UPS_SANDBOX_URL = f"http://127.0.0.1:{free_port()}"
    settings.UPS_MAX_RETRIES = 1

    with pytest.raises(UpsTransientError) as caught:
        UpsClient().ship(shipment())

    assert caught.value.code == "UPS_UNREACHABLE"
    assert "connection was refused" in caught.value.message
    assert "not sent" in caught.value.message


def test_read_timeout_on_ship_is_outcome_unknown_and_the_ledger_has_one_shipment(
    ups_sandbox: SandboxController,
) -> None:
    ups_sandbox.set_fault("timeout_after_ship", count=1, hold_seconds=5)

    with pytest.raises(UpsOutcomeUnknownError) as caught:
        UpsClient(read_timeout=0.5).ship(shipment("ROW-48"))

    assert caught.value.code == "UPS_TIMEOUT"
    assert "may or may not have been created" in caught.value.message
    assert len(ups_sandbox.ledger(reference="ROW-48")) == 1
    assert ups_sandbox.calls("ship") == 1


@pytest.mark.parametrize(
    ("kind", "params", "shipments"),
    [
        ("drop_connection", {}, 0),
        ("drop_connection", {"after_work": True}, 1),
        ("http_500", {}, 0),
        ("http_503", {}, 0),
        ("malformed", {"variant": "truncated"}, 1),
    ],
)
def test_a_lost_ship_answer_is_outcome_unknown_and_never_resent(
    client: UpsClient,
    ups_sandbox: SandboxController,
    kind: str,
    params: dict[str, object],
    shipments: int,
) -> None:
    ups_sandbox.set_fault(kind, endpoint="ship", count=1, **params)

    with pytest.raises(UpsOutcomeUnknownError, match="Look it up by its reference"):
        client.ship(shipment("ROW-5"))

    assert ups_sandbox.calls("ship") == 1
    assert len(ups_sandbox.ledger(reference="ROW-5")) == shipments


def test_wrong_secret_is_an_auth_error(
    ups_sandbox: SandboxController, settings: LazySettings
) -> None:
    settings.UPS_CLIENT_SECRET = "not-the-secret"

    with pytest.raises(UpsAuthError) as caught:
        UpsClient().rate(shipment())

    assert (caught.value.code, caught.value.http_status) == ("10401", 401)
    assert "UPS_CLIENT_SECRET" in caught.value.message
    assert ups_sandbox.calls("token") == 1  # credentials are not retried


def test_missing_credentials_are_an_auth_error_before_any_call(
    ups_sandbox: SandboxController, settings: LazySettings
) -> None:
    settings.UPS_CLIENT_ID = ""

    with pytest.raises(UpsAuthError, match="UPS_CLIENT_ID and UPS_CLIENT_SECRET") as caught:
        UpsClient().track("1Z999AA10123456784")

    assert caught.value.code == "UPS_NOT_CONFIGURED"
    assert ups_sandbox.requests() == []


def test_missing_shipper_number_is_an_auth_error(
    ups_sandbox: SandboxController, settings: LazySettings
) -> None:
    settings.UPS_SHIPPER_NUMBER = ""

    with pytest.raises(UpsAuthError, match="UPS_SHIPPER_NUMBER"):
        UpsClient().ship(shipment())


def test_a_token_refused_twice_is_an_auth_error(
    client: UpsClient, ups_sandbox: SandboxController
) -> None:
    ups_sandbox.set_fault("expired_token", count=2)

    with pytest.raises(UpsAuthError) as caught:
        client.rate(shipment())

    assert caught.value.http_status == 401
    assert "freshly issued access token" in caught.value.message
    assert ups_sandbox.calls("rate") == 2


def test_errors_carry_their_kind_for_audit_entries(client: UpsClient) -> None:
    with pytest.raises(UpsDefinitiveError) as caught:
        client.void("1ZA1B2C30399999997")

    data = caught.value.as_dict()
    assert data["kind"] == "definitive"
    assert data["code"] == "190117"
    assert len(data["trans_id"]) == 32
