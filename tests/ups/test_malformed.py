"""A malformed UPS answer becomes a clear error of the right kind, never a KeyError."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.conf import LazySettings

from tests.fixtures.ups_sandbox import SandboxController
from tests.ups.conftest import RECIPIENT, shipment
from ups.client import UpsClient
from ups.errors import UpsDefinitiveError, UpsOutcomeUnknownError, UpsTransientError

VARIANTS = {
    "html": "HTML page instead of JSON",
    "truncated": "JSON was truncated or invalid",
    "missing_fields": "is missing",
}


@pytest.fixture
def no_retries(settings: LazySettings) -> None:
    settings.UPS_MAX_RETRIES = 0


@pytest.mark.usefixtures("no_retries")
@pytest.mark.parametrize(
    ("endpoint", "call"),
    [
        ("rate", lambda client: client.rate(shipment())),
        ("rate", lambda client: client.shop(shipment())),
        ("xav", lambda client: client.validate_address(RECIPIENT)),
        ("track", lambda client: client.track("1Z999AA10123456784")),
        ("token", lambda client: client.rate(shipment())),
    ],
)
@pytest.mark.parametrize("variant", VARIANTS)
def test_a_malformed_answer_to_a_read_is_transient(
    ups_sandbox: SandboxController,
    endpoint: str,
    call: Callable[[UpsClient], object],
    variant: str,
) -> None:
    ups_sandbox.set_fault("malformed", endpoint=endpoint, variant=variant, count=1)

    with pytest.raises(UpsTransientError) as caught:
        call(UpsClient())

    assert caught.value.code == "UPS_BAD_RESPONSE"
    assert VARIANTS[variant] in caught.value.message


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_malformed_answer_to_ship_is_outcome_unknown(
    client: UpsClient, ups_sandbox: SandboxController, variant: str
) -> None:
    ups_sandbox.set_fault("malformed", endpoint="ship", variant=variant, count=1)

    with pytest.raises(UpsOutcomeUnknownError) as caught:
        client.ship(shipment("ROW-21"))

    assert VARIANTS[variant] in caught.value.message
    assert len(ups_sandbox.ledger(reference="ROW-21")) == 1


def test_a_malformed_answer_is_retried_like_any_transient_error(
    client: UpsClient, ups_sandbox: SandboxController
) -> None:
    ups_sandbox.set_fault("malformed", endpoint="rate", variant="truncated", count=1)

    assert client.rate(shipment()).total_cents > 0
    assert ups_sandbox.calls("rate") == 2


def test_an_html_error_page_with_a_4xx_status_is_definitive(
    client: UpsClient, ups_sandbox: SandboxController
) -> None:
    ups_sandbox.set_fault("malformed", endpoint="void", variant="html", status=404, count=1)

    with pytest.raises(UpsDefinitiveError) as caught:
        client.void("1ZA1B2C30399999997")

    assert (caught.value.code, caught.value.http_status) == ("HTTP_404", 404)
    assert "without saying why" in caught.value.message
