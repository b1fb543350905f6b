"""A ship call built ahead of time (``prepare_ship``) and sent later (``send_ship``)."""

from __future__ import annotations

import pytest

from tests.fixtures.ups_sandbox import SandboxController
from tests.ups.conftest import shipment
from tests.ups.test_sent_signal import ANSWER, HeldAnswerServer
from ups.auth import clear_cached_tokens
from ups.client import UpsClient
from ups.config import UpsConfig
from ups.errors import UpsAuthError
from ups.transport import HttpCall, Transport


def test_a_call_prepared_ahead_is_sent_as_it_was_built(
    client: UpsClient, ups_sandbox: SandboxController
) -> None:
    client.authenticate()
    prepared = client.prepare_ship(shipment("ROW-P1"))
    assert prepared.first is not None

    result = client.send_ship(prepared)

    [call] = ups_sandbox.requests("ship")
    assert call["trans_id"] == prepared.first.info.trans_id
    [entry] = ups_sandbox.ledger(reference="ROW-P1")
    assert entry["tracking_number"] == result.tracking_number


def test_preparing_never_fetches_a_token(client: UpsClient, ups_sandbox: SandboxController) -> None:
    clear_cached_tokens()
    prepared = client.prepare_ship(shipment("ROW-P2"))

    assert prepared.first is None
    assert ups_sandbox.calls("token") == 0
    client.send_ship(prepared)
    assert ups_sandbox.calls("token") == 1
    assert len(ups_sandbox.ledger(reference="ROW-P2")) == 1


@pytest.mark.parametrize("replaced_here", [True, False])
def test_a_call_prepared_with_a_token_ups_no_longer_takes_ships_once(
    client: UpsClient, ups_sandbox: SandboxController, replaced_here: bool
) -> None:
    client.authenticate()
    prepared = client.prepare_ship(shipment("ROW-P3"))
    assert prepared.first is not None
    ups_sandbox.revoke_tokens()  # UPS no longer takes the token it was built with
    if replaced_here:
        clear_cached_tokens()  # and this process already knows: it fetches another

    client.send_ship(prepared)

    calls = ups_sandbox.requests("ship")
    # Known replaced: built again and sent once. Not known: sent as built, a 401, then again.
    assert len(calls) == (1 if replaced_here else 2)
    assert (calls[0]["trans_id"] == prepared.first.info.trans_id) is not replaced_here
    assert ups_sandbox.calls("token") == 2
    assert len(ups_sandbox.ledger(reference="ROW-P3")) == 1


def test_what_cannot_be_built_ahead_fails_when_it_is_sent(
    ups_sandbox: SandboxController,
) -> None:
    client = UpsClient(shipper_number="")
    prepared = client.prepare_ship(shipment("ROW-P5"))  # no error yet
    assert prepared.call is None

    with pytest.raises(UpsAuthError) as refused:
        client.send_ship(prepared)

    assert refused.value.code == "UPS_NOT_CONFIGURED"
    assert ups_sandbox.calls("ship") == 0
    client.close()


def test_an_unknown_label_format_is_refused_when_preparing(client: UpsClient) -> None:
    with pytest.raises(ValueError, match="PDF"):
        client.prepare_ship(shipment(), label_format="pdf")


def test_the_transport_keeps_no_cookies() -> None:
    answer = ANSWER.replace(b"\r\n\r\n", b"\r\nSet-Cookie: session=abc; Path=/\r\n\r\n", 1)
    server = HeldAnswerServer(answer=answer)
    server.release.set()
    transport = Transport(UpsConfig.from_settings())
    try:
        body = transport.perform(HttpCall("test call", "GET", f"{server.url}/"), lambda json: json)
    finally:
        server.close()
        transport.close()

    assert body == {"ok": "yes"}
    assert len(transport.session.cookies) == 0
