"""The known spec defects are tolerated, each exactly, and nothing else."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from tests.ups.conftest import shipment
from ups import schemas, spec_defects
from ups.payloads import label_recovery_body, rate_body, ship_body

RATE = schemas.operation("rating", "POST", "/rating/{version}/{requestoption}")
SHIP = schemas.operation("shipping", "POST", "/shipments/{version}/ship")
PATH_PARAMS = {"version": "v2409", "requestoption": "Rate"}


def check(operation: schemas.Operation, body: Any) -> list[str]:
    params = {name: PATH_PARAMS[name] for name in ("version", "requestoption")}
    if operation is SHIP:
        del params["requestoption"]
    return operation.check(path_params=params, body=body)


def rate() -> dict[str, Any]:
    return rate_body(shipment(), "A1B2C3", shop=False)


def ship(label_format: str = "GIF") -> dict[str, Any]:
    return ship_body(shipment(), "A1B2C3", label_format=label_format)


def test_trailing_tabs_are_stripped_before_parsing() -> None:
    text = (schemas.SPEC_DIR / "Tracking.yaml").read_text(encoding="utf-8")

    with pytest.raises(yaml.YAMLError):
        yaml.safe_load(text)
    assert yaml.safe_load(spec_defects.strip_trailing_blanks(text))["openapi"] == "3.0.1"


@pytest.mark.parametrize("name", ["Shipping.yaml", "Tracking.yaml"])
def test_only_trailing_blanks_are_stripped(name: str) -> None:
    text = (schemas.SPEC_DIR / name).read_text(encoding="utf-8")
    lines = text.splitlines()

    stripped = spec_defects.strip_trailing_blanks(text).splitlines()

    assert any(line.rstrip(" ").endswith("\t") for line in lines)
    assert stripped == [line.rstrip(" \t") for line in lines]


def test_the_defects_are_those_of_the_contract_and_of_label_recovery() -> None:
    summaries = {defect.summary for defect in spec_defects.KNOWN_DEFECTS}

    assert {defect.api for defect in spec_defects.KNOWN_DEFECTS} == {"rating", "shipping"}
    # CONTRACT.md's 4 defects (two of them in both specs), and Label Recovery's 2 (docs/ups.md).
    assert len(spec_defects.KNOWN_DEFECTS) == 9
    assert any("RequestOption" in summary for summary in summaries)
    assert any("minLength 3" in summary for summary in summaries)
    assert any("LabelStockSize" in summary for summary in summaries)
    assert sum("array in the schema" in summary for summary in summaries) == 2
    assert any("Roadie" in summary for summary in summaries)
    assert any("rejects GIF and ZPL" in summary for summary in summaries)


def test_a_two_letter_label_code_is_still_refused_in_label_recovery() -> None:
    body = label_recovery_body("1Z999AA10123456784", label_format="GIF")
    body["LabelRecoveryRequest"]["LabelSpecification"]["LabelImageFormat"]["Code"] = "GI"
    operation = schemas.operation("shipping", "POST", "/labels/{version}/recovery")

    assert operation.check(path_params={"version": "v1"}, body=body) == [
        "LabelRecoveryRequest.LabelSpecification.LabelImageFormat.Code: 'GI' is too short"
    ]


def test_rate_request_option_may_be_left_out() -> None:
    assert "RequestOption" not in rate()["RateRequest"]["Request"]
    assert check(RATE, rate()) == []


def test_service_code_03_is_accepted_but_a_one_digit_code_is_not() -> None:
    body = rate()
    body["RateRequest"]["Shipment"]["Service"]["Code"] = "3"

    assert check(RATE, rate()) == []
    assert check(RATE, body) == ["RateRequest.Shipment.Service.Code: '3' is too short"]


@pytest.mark.parametrize(
    ("build", "operation", "container", "field"),
    [
        (rate, RATE, ("RateRequest", "Shipment"), "Package"),
        (rate, RATE, ("RateRequest", "Shipment", "PaymentDetails"), "ShipmentCharge"),
        (ship, SHIP, ("ShipmentRequest", "Shipment"), "Package"),
        (ship, SHIP, ("ShipmentRequest", "Shipment", "PaymentInformation"), "ShipmentCharge"),
    ],
)
def test_package_and_shipment_charge_may_be_one_object(
    build: Any, operation: schemas.Operation, container: tuple[str, ...], field: str
) -> None:
    body = build()
    parent = body
    for key in container:
        parent = parent[key]
    parent[field] = parent[field][0]
    assert check(operation, body) == []

    parent[field] = {**parent[field], "Type": ["not", "text"], "PackageWeight": "heavy"}
    [problem] = check(operation, body)
    assert problem.startswith(".".join((*container, field)))
    assert "is not of type" in problem


def test_label_stock_size_may_be_absent_for_gif_only() -> None:
    zpl = ship("ZPL")
    del zpl["ShipmentRequest"]["LabelSpecification"]["LabelStockSize"]

    assert "LabelStockSize" not in ship("GIF")["ShipmentRequest"]["LabelSpecification"]
    assert check(SHIP, ship("GIF")) == []
    assert check(SHIP, zpl) == [
        "ShipmentRequest.LabelSpecification: 'LabelStockSize' is a required property"
    ]


def test_other_deviations_are_refused() -> None:
    body = ship()
    body["ShipmentRequest"]["Shipment"]["ShipTo"]["Address"]["AddressLine"] = "123 Main St"
    body["ShipmentRequest"]["Shipment"]["Shipper"]["ShipperNumber"] = "A1B2C3D"

    assert check(SHIP, body) == [
        "ShipmentRequest.Shipment.ShipTo.Address.AddressLine: '123 Main St' is not of type 'array'",
        "ShipmentRequest.Shipment.Shipper.ShipperNumber: 'A1B2C3D' is too long",
    ]


def test_a_defect_fixed_upstream_is_reported() -> None:
    fixed = copy.deepcopy(schemas.tolerant_spec("rating"))

    with pytest.raises(spec_defects.SpecDefectNotFound, match="RequestOption"):
        spec_defects.tolerate("rating", fixed)


def test_upss_own_example_fails_only_on_the_defects_as_published() -> None:
    examples = schemas.raw_spec("rating")["paths"]["/rating/{version}/{requestoption}"]["post"][
        "requestBody"
    ]["content"]["application/json"]["examples"]
    example = examples["8"]["value"]
    raw = schemas.operation("rating", "POST", "/rating/{version}/{requestoption}", tolerate=False)

    assert check(RATE, example) == []
    problems = check(raw, example)
    assert len(problems) == 3
    assert problems[0] == "RateRequest.Request: 'RequestOption' is a required property"
    assert problems[1].startswith("RateRequest.Shipment.Package: {'PackagingType'")
    assert problems[2] == "RateRequest.Shipment.Service.Code: '03' is too short"
