"""The requests the client builds, checked against UPS's official schemas."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from tests.ups.conftest import RECIPIENT, shipment
from ups import schemas
from ups.payloads import rate_body, ship_body, xav_body
from ups.types import Address, Package

SHIPPER = "A1B2C3"
RATE = ("rating", "POST", "/rating/{version}/{requestoption}")
SHIP = ("shipping", "POST", "/shipments/{version}/ship")
XAV = ("xav", "POST", "/addressvalidation/{version}/{requestoption}")
PATH_PARAMS = {
    RATE: {"version": "v2409", "requestoption": "Rate"},
    SHIP: {"version": "v2409"},
    XAV: {"version": "v2", "requestoption": "3"},
}
NO_DIMENSIONS = Package(Decimal("0.4"))
BUSINESS = Address(
    "Ann Lee",
    ("1 Infinite Loop",),
    "Cupertino",
    "CA",
    "95014-2083",
    "US",
    company="Acme Inc",
    email="ann@example.com",
)

CASES: dict[str, tuple[tuple[str, str, str], Callable[[], dict[str, Any]]]] = {
    "rate": (RATE, lambda: rate_body(shipment(), SHIPPER, shop=False)),
    "rate without dimensions": (
        RATE,
        lambda: rate_body(shipment(package=NO_DIMENSIONS, ship_to=BUSINESS), SHIPPER, shop=False),
    ),
    "shop": (RATE, lambda: rate_body(shipment(), SHIPPER, shop=True)),
    "ship GIF": (SHIP, lambda: ship_body(shipment(), SHIPPER, label_format="GIF")),
    "ship ZPL": (
        SHIP,
        lambda: ship_body(shipment(ship_to=BUSINESS), SHIPPER, label_format="ZPL"),
    ),
    "ship without dimensions": (
        SHIP,
        lambda: ship_body(shipment(package=NO_DIMENSIONS), SHIPPER, label_format="GIF"),
    ),
    "address validation": (XAV, lambda: xav_body(RECIPIENT)),
    "address validation ZIP+4": (XAV, lambda: xav_body(BUSINESS)),
}
# What the published (untolerated) spec says about our requests: only CONTRACT.md's defects.
RATE_DEFECTS = {
    "RateRequest.Request: 'RequestOption' is a required property",
    "RateRequest.Shipment.Service.Code: '03' is too short",
}
KNOWN_DEFECT_VIOLATIONS = {
    "rate": RATE_DEFECTS,
    "rate without dimensions": RATE_DEFECTS,
    "shop": {"RateRequest.Request: 'RequestOption' is a required property"},
    "ship GIF": {"ShipmentRequest.LabelSpecification: 'LabelStockSize' is a required property"},
    "ship without dimensions": {
        "ShipmentRequest.LabelSpecification: 'LabelStockSize' is a required property"
    },
}


@pytest.mark.parametrize("case", CASES)
def test_client_requests_satisfy_the_official_schemas(case: str) -> None:
    where, build = CASES[case]

    problems = schemas.operation(*where).check(path_params=PATH_PARAMS[where], body=build())

    assert problems == []


@pytest.mark.parametrize("case", CASES)
def test_against_the_spec_as_published_only_known_defects_remain(case: str) -> None:
    where, build = CASES[case]
    operation = schemas.operation(*where, tolerate=False)

    problems = operation.check(path_params=PATH_PARAMS[where], body=build())

    assert set(problems) == KNOWN_DEFECT_VIOLATIONS.get(case, set())


def test_ship_carries_the_reference_in_the_package_not_the_shipment() -> None:
    body = ship_body(shipment("ROW-77"), SHIPPER, label_format="GIF")["ShipmentRequest"]

    assert body["Shipment"]["Package"][0]["ReferenceNumber"] == [{"Value": "ROW-77"}]
    assert "ReferenceNumber" not in body["Shipment"]
    charge = body["Shipment"]["PaymentInformation"]["ShipmentCharge"]
    assert charge == [{"Type": "01", "BillShipper": {"AccountNumber": SHIPPER}}]


def test_numbers_travel_as_strings_rounded_up() -> None:
    package = Package(Decimal("5.21"), Decimal("10.2"), Decimal("8"), Decimal("6.01"))

    body = ship_body(shipment(package=package), SHIPPER, label_format="GIF")
    sent = body["ShipmentRequest"]["Shipment"]["Package"][0]

    assert sent["PackageWeight"]["Weight"] == "5.3"
    assert (sent["Dimensions"]["Length"], sent["Dimensions"]["Height"]) == ("11", "7")
    assert body["ShipmentRequest"]["Shipment"]["ShipTo"]["Phone"] == {"Number": "2175550101"}
