"""The Shipment value object and its JSON form, as JobRow stores it."""

from __future__ import annotations

import json
from decimal import Decimal

from datasources.shipment import Shipment
from tests.factories import sample_shipment
from tests.fixtures.sources import full_shipment


def test_json_round_trip_is_exact_and_json_safe() -> None:
    shipment = full_shipment()

    data = json.loads(json.dumps(shipment.to_json()))

    assert data["weight_lbs"] == "2.5"
    assert data["length_in"] == "11.9"
    assert data["address_lines"] == ["1 Main St", "Suite 4"]
    assert Shipment.from_json(data) == shipment
    assert shipment.has_dimensions


def test_older_json_without_optional_fields_still_loads() -> None:
    shipment = Shipment.from_json(sample_shipment(7))

    assert shipment.reference == "ORDER-7"
    assert shipment.weight_lbs == Decimal("2.5")
    assert (shipment.company, shipment.phone, shipment.packaging_code) == ("", "", "02")
    assert not shipment.has_dimensions
