"""Every client call succeeding against the sandbox over real HTTP."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

from PIL import Image

from tests.fixtures.ups_sandbox import SandboxController
from tests.ups.conftest import RECIPIENT, shipment
from ups.client import UpsClient
from ups.parsers import parse_track
from ups.service_codes import DOMESTIC_SERVICES
from ups.tracking_numbers import is_valid_tracking_number
from ups.types import Address


def test_rate_returns_the_price_of_the_service_in_cents(client: UpsClient) -> None:
    quote = client.rate(shipment())

    assert quote.service_code == "03"
    assert quote.currency == "USD"
    assert isinstance(quote.total_cents, int)
    assert quote.total_cents > 0
    assert quote.negotiated_cents is not None
    assert quote.negotiated_cents < quote.total_cents


def test_shop_returns_every_domestic_service(client: UpsClient) -> None:
    quotes = client.shop(shipment())

    assert {quote.service_code for quote in quotes} == set(DOMESTIC_SERVICES)
    by_code = {quote.service_code: quote.total_cents for quote in quotes}
    assert by_code["03"] < by_code["02"] < by_code["01"]


def test_ship_returns_a_gif_label_and_a_valid_1z_number(
    client: UpsClient, ups_sandbox: SandboxController
) -> None:
    result = client.ship(shipment("ROW-7"))

    assert is_valid_tracking_number(result.tracking_number)
    assert result.shipment_id == result.tracking_number
    assert result.label_format == "GIF"
    image = Image.open(io.BytesIO(result.label_bytes))
    assert (image.format, image.size) == ("GIF", (800, 1200))  # 4 x 6 inches at 200 dpi
    assert result.total_cents == client.rate(shipment("ROW-7")).total_cents
    [entry] = ups_sandbox.ledger(reference="ROW-7")
    assert entry["tracking_number"] == result.tracking_number


def test_ship_sends_the_reference_in_the_package(client: UpsClient) -> None:
    result = client.ship(shipment("ROW-REF-35-CHARACTERS-LONG-ABCDEFGH"))

    [package] = client.track(result.tracking_number)
    assert package.reference_numbers == ("ROW-REF-35-CHARACTERS-LONG-ABCDEFGH",)


def test_ship_returns_zpl_on_request(client: UpsClient) -> None:
    result = client.ship(shipment(), label_format="zpl")

    assert result.label_format == "ZPL"
    assert result.label_bytes.startswith(b"^XA")
    assert result.tracking_number.encode() in result.label_bytes
    assert result.label_bytes.rstrip().endswith(b"^XZ")


def test_void_marks_the_ledger_entry_voided_and_is_idempotent(
    client: UpsClient, ups_sandbox: SandboxController
) -> None:
    shipped = client.ship(shipment("ROW-9"))

    first = client.void(shipped.shipment_id, tracking_numbers=[shipped.tracking_number])
    again = client.void(shipped.shipment_id)

    assert (first.voided, first.status_code, first.description) == (True, "1", "Voided")
    assert again.voided
    [entry] = ups_sandbox.ledger(tracking_number=shipped.tracking_number)
    assert entry["voided"] is True
    assert client.track(shipped.tracking_number)[0].status == "Voided"


def test_validate_address_valid_and_residential(client: UpsClient) -> None:
    result = client.validate_address(RECIPIENT)

    assert (result.indicator, result.classification) == ("valid", "residential")
    [candidate] = result.candidates
    assert candidate.address_lines == ("123 MAIN ST", "APT 4")
    assert candidate.postal_code.startswith("62701-")
    assert candidate.residential is True


def test_validate_address_ambiguous_and_commercial(client: UpsClient) -> None:
    office = Address("Acme Inc", ("55 Glenlake Pkwy NE", "Ste 100"), "Atlanta", "GA", "", "US")

    result = client.validate_address(office)

    assert (result.indicator, result.classification) == ("ambiguous", "commercial")
    assert len(result.candidates) == 2


def test_validate_address_without_candidates(client: UpsClient) -> None:
    nowhere = Address("X", ("1 Nowhere Rd",), "Atlanta", "GA", "3032", "US")

    result = client.validate_address(nowhere)

    assert (result.indicator, result.classification, result.candidates) == (
        "no_candidates",
        "unclassified",
        (),
    )


def test_track_by_number_and_unknown_number(client: UpsClient) -> None:
    shipped = client.ship(shipment("ROW-11"))

    [package] = client.track(shipped.tracking_number)

    assert (package.tracking_number, package.status, package.status_code) == (
        shipped.tracking_number,
        "Label Created",
        "MP",
    )
    assert package.shipment_id == shipped.shipment_id
    assert client.track("1Z999AA10123456784") == []


def test_a_tracked_package_says_when_ups_made_it_even_after_a_void(
    client: UpsClient, ups_sandbox: SandboxController
) -> None:
    shipped = client.ship(shipment("ROW-12"))
    [entry] = ups_sandbox.ledger(tracking_number=shipped.tracking_number)
    made = datetime.fromisoformat(entry["created_at"]).replace(microsecond=0)

    assert client.track(shipped.tracking_number)[0].first_seen_at == made
    client.void(shipped.shipment_id)
    assert client.track(shipped.tracking_number)[0].first_seen_at == made  # not the void's


def test_activities_without_a_readable_time_give_no_first_seen_time() -> None:
    activity = [
        {"gmtDate": "20260230", "gmtTime": "10:00:00"},  # no such day
        {"gmtDate": "20261121"},
        {"date": "20261121", "time": "101500"},  # local time only: its offset is unknown
    ]
    package = {"trackingNumber": "1Z999AA10123456784", "activity": activity}
    body = {"trackResponse": {"shipment": [{"package": [package]}]}}

    assert parse_track(body)[0].first_seen_at is None
    activity.append({"gmtDate": "20261120", "gmtTime": "23:59:58"})
    assert parse_track(body)[0].first_seen_at == datetime(2026, 11, 20, 23, 59, 58, tzinfo=UTC)
    activity.append({"gmtDate": "20261120", "gmtTime": "74700"})  # the spec's example's form
    assert parse_track(body)[0].first_seen_at == datetime(2026, 11, 20, 7, 47, tzinfo=UTC)


def test_track_by_reference_finds_every_shipment_of_the_reference(client: UpsClient) -> None:
    first = client.ship(shipment("ROW-12"))
    second = client.ship(shipment("ROW-12"))
    client.ship(shipment("ROW-13"))
    today = date.today()

    found = client.track_by_reference(
        "ROW-12", from_date=today - timedelta(days=1), to_date=today + timedelta(days=1)
    )
    elsewhere = client.track_by_reference(
        "ROW-12", from_date=today - timedelta(days=30), to_date=today - timedelta(days=2)
    )

    assert [package.tracking_number for package in found] == [
        first.tracking_number,
        second.tracking_number,
    ]
    assert elsewhere == []


def test_every_call_carries_a_unique_trans_id_and_the_transaction_source(
    client: UpsClient, ups_sandbox: SandboxController
) -> None:
    shipped = client.ship(shipment())
    client.rate(shipment())
    client.validate_address(RECIPIENT)
    client.track(shipped.tracking_number)
    client.void(shipped.shipment_id)

    calls = ups_sandbox.requests()

    assert {call["endpoint"] for call in calls} == {"token", "ship", "rate", "xav", "track", "void"}
    trans_ids = [call["trans_id"] for call in calls]
    assert all(trans_id and len(trans_id) <= 32 for trans_id in trans_ids)
    assert len(set(trans_ids)) == len(trans_ids)
    assert {call["transaction_src"] for call in calls} == {"ShipOps"}
