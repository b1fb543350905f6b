"""The sandbox speaks UPS: its answers match the published response schemas."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
import requests

from tests.fixtures.ups_sandbox import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SandboxController
from tests.ups.conftest import RECIPIENT, shipment
from ups import schemas
from ups.payloads import rate_body, ship_body, xav_body
from ups.types import Package

HEADERS = {"transId": "0123456789abcdef0123456789abcdef", "transactionSrc": "tests"}


def token(url: str) -> str:
    answer = requests.post(
        f"{url}/security/v1/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET),
        timeout=5,
    )
    assert answer.status_code == 200
    assert_valid(answer, ("oauth", "POST", "/security/v1/oauth/token"))
    value: str = answer.json()["access_token"]
    return value


def call(ups_sandbox: SandboxController, method: str, path: str, **kwargs: Any) -> Any:
    headers = {**HEADERS, "Authorization": f"Bearer {token(ups_sandbox.url)}"}
    headers.update(kwargs.pop("headers", {}))
    return requests.request(
        method, f"{ups_sandbox.url}{path}", headers=headers, timeout=5, **kwargs
    )


def assert_valid(answer: requests.Response, operation: tuple[str, str, str]) -> None:
    validator = schemas.response_validator(*operation, str(answer.status_code))
    problems = [schemas.describe(error) for error in validator.iter_errors(answer.json())]
    assert problems == []


RATE = ("rating", "POST", "/rating/{version}/{requestoption}")
SHIP = ("shipping", "POST", "/shipments/{version}/ship")
VOID = ("shipping", "DELETE", "/shipments/{version}/void/cancel/{shipmentidentificationnumber}")
XAV = ("xav", "POST", "/addressvalidation/{version}/{requestoption}")
TRACK = ("tracking", "GET", "/track/v1/details/{inquiryNumber}")
TRACK_REFERENCE = ("tracking", "GET", "/track/v1/reference/details/{referenceNumber}")


@pytest.mark.parametrize("option", ["Rate", "Shop"])
def test_rate_answers_match_the_spec(ups_sandbox: SandboxController, option: str) -> None:
    body = rate_body(shipment(), "A1B2C3", shop=option == "Shop")

    answer = call(ups_sandbox, "POST", f"/api/rating/v2409/{option}", json=body)

    assert answer.status_code == 200
    assert_valid(answer, RATE)


def test_ship_void_and_track_answers_match_the_spec(ups_sandbox: SandboxController) -> None:
    body = ship_body(shipment("ROW-S"), "A1B2C3", label_format="GIF")
    shipped = call(ups_sandbox, "POST", "/api/shipments/v2409/ship", json=body)
    number = shipped.json()["ShipmentResponse"]["ShipmentResults"]["ShipmentIdentificationNumber"]

    tracked = call(ups_sandbox, "GET", f"/api/track/v1/details/{number}")
    by_reference = call(ups_sandbox, "GET", "/api/track/v1/reference/details/ROW-S")
    voided = call(ups_sandbox, "DELETE", f"/api/shipments/v2409/void/cancel/{number}")

    for answer, operation in [
        (shipped, SHIP),
        (tracked, TRACK),
        (by_reference, TRACK_REFERENCE),
        (voided, VOID),
    ]:
        assert answer.status_code == 200
        assert_valid(answer, operation)


def test_xav_answers_match_the_spec(ups_sandbox: SandboxController) -> None:
    answer = call(ups_sandbox, "POST", "/api/addressvalidation/v2/3", json=xav_body(RECIPIENT))

    assert answer.status_code == 200
    assert_valid(answer, XAV)


def test_a_schema_violation_gets_a_ups_shaped_400(ups_sandbox: SandboxController) -> None:
    body = ship_body(shipment(), "A1B2C3", label_format="GIF")
    body["ShipmentRequest"]["Shipment"]["Service"]["Code"] = "011"
    del body["ShipmentRequest"]["Shipment"]["ShipTo"]["Name"]

    answer = call(ups_sandbox, "POST", "/api/shipments/v2409/ship", json=body)

    assert answer.status_code == 400
    assert_valid(answer, SHIP)
    assert answer.json()["response"]["errors"] == [
        {
            "code": "10002",
            "message": "Invalid request: ShipmentRequest.Shipment.Service.Code: '011' is too long",
        },
        {
            "code": "10002",
            "message": "Invalid request: ShipmentRequest.Shipment.ShipTo: "
            "'Name' is a required property",
        },
    ]
    assert ups_sandbox.ledger() == []


def test_tracking_without_trace_headers_is_refused(ups_sandbox: SandboxController) -> None:
    answer = requests.get(
        f"{ups_sandbox.url}/api/track/v1/details/1Z999AA10123456784",
        headers={"Authorization": f"Bearer {token(ups_sandbox.url)}"},
        timeout=5,
    )

    assert answer.status_code == 400
    messages = [error["message"] for error in answer.json()["response"]["errors"]]
    assert messages == [
        "Invalid request: header parameter transId: is required",
        "Invalid request: header parameter transactionSrc: is required",
    ]


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "code"),
    [
        ("POST", "/api/rating/v2409/Rate", {"data": b"{not json"}, 400, "10001"),
        (
            "POST",
            "/api/rating/v2409/Rate",
            {"headers": {"Authorization": "Bearer x"}},
            401,
            "250002",
        ),
        ("GET", "/api/track/v1/details/1Z", {}, 400, "TV0001"),
        ("GET", "/api/nothing/here", {}, 404, "10404"),
        ("POST", "/api/rating/v2409/Rate", {"headers": {"transId": "x" * 33}}, 400, "10002"),
    ],
)
def test_bad_requests_get_ups_shaped_errors(
    ups_sandbox: SandboxController,
    method: str,
    path: str,
    kwargs: dict[str, Any],
    status: int,
    code: str,
) -> None:
    if "data" not in kwargs:
        kwargs = {**kwargs, "json": rate_body(shipment(), "A1B2C3", shop=False)}

    answer = call(ups_sandbox, method, path, **kwargs)

    assert answer.status_code == status
    assert answer.json()["response"]["errors"][0]["code"] == code


def test_bad_credentials_get_a_401(ups_sandbox: SandboxController) -> None:
    answer = requests.post(
        f"{ups_sandbox.url}/security/v1/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(SANDBOX_CLIENT_ID, "nope"),
        timeout=5,
    )

    assert answer.status_code == 401
    assert_valid(answer, ("oauth", "POST", "/security/v1/oauth/token"))


def price(ups_sandbox: SandboxController, **changes: Any) -> str:
    body = rate_body(shipment(**changes), "A1B2C3", shop=False)
    answer = call(ups_sandbox, "POST", "/api/rating/v2409/Rate", json=body)
    total: str = answer.json()["RateResponse"]["RatedShipment"][0]["TotalCharges"]["MonetaryValue"]
    return total


def test_rates_are_deterministic_from_weight_distance_and_service(
    ups_sandbox: SandboxController,
) -> None:
    base = Decimal(price(ups_sandbox))
    far = replace(RECIPIENT, postal_code="98101", state="WA")

    assert Decimal(price(ups_sandbox)) == base == Decimal("23.75")
    assert Decimal(price(ups_sandbox, package=Package(Decimal("40")))) > base
    assert Decimal(price(ups_sandbox, ship_to=far)) > base
    assert Decimal(price(ups_sandbox, service_code="01")) > base
