"""The JSON bodies UPS expects, built from our dataclasses (numbers travel as strings)."""

from __future__ import annotations

import re
from decimal import ROUND_CEILING, Decimal
from typing import Any

from ups.service_codes import service_name
from ups.types import Address, Package, ShipmentRequest

THERMAL_LABEL_STOCK = {"Height": "6", "Width": "4"}
LABEL_FORMATS = ("GIF", "ZPL")
POUNDS = {"Code": "LBS", "Description": "Pounds"}
INCHES = {"Code": "IN", "Description": "Inches"}
BILL_SHIPPER_TYPE = "01"


def digits(value: str) -> str:
    """Return only the digits of a phone number or postal code."""
    return re.sub(r"\D", "", value)


def postal_code(address: Address) -> str:
    """Return the postal code as UPS wants it: US/PR ZIP+4 without the dash."""
    if address.country.upper() in {"US", "PR"}:
        return digits(address.postal_code)
    return address.postal_code.strip()


def weight_text(weight_lbs: Decimal) -> str:
    """Return the weight rounded up to a tenth of a pound (UPS bills whole pounds anyway)."""
    rounded = weight_lbs.quantize(Decimal("0.1"), rounding=ROUND_CEILING)
    return f"{rounded.normalize():f}"


def dimension_text(inches: Decimal) -> str:
    """Return a dimension rounded up to a whole inch (Ship allows three characters)."""
    return str(int(inches.to_integral_value(rounding=ROUND_CEILING)))


def ups_address(address: Address, *, ship_to: bool = False) -> dict[str, Any]:
    """Return an ``Address`` object for Rate and Ship."""
    body: dict[str, Any] = {
        "AddressLine": [line for line in address.address_lines if line.strip()],
        "City": address.city,
        "StateProvinceCode": address.state,
        "PostalCode": postal_code(address),
        "CountryCode": address.country.upper(),
    }
    if ship_to and address.residential:
        body["ResidentialAddressIndicator"] = "Y"
    return {key: value for key, value in body.items() if value}


def party(address: Address, *, ship_to: bool = False) -> dict[str, Any]:
    """Return a Shipper, ShipTo or ShipFrom: the company (or person) and its contact."""
    body: dict[str, Any] = {
        "Name": address.company or address.name,
        "AttentionName": address.name or address.company,
        "Address": ups_address(address, ship_to=ship_to),
    }
    if address.phone and digits(address.phone):
        body["Phone"] = {"Number": digits(address.phone)}
    if address.email:
        body["EMailAddress"] = address.email
    return body


def _bill_shipper(shipper_number: str) -> dict[str, Any]:
    return {"Type": BILL_SHIPPER_TYPE, "BillShipper": {"AccountNumber": shipper_number}}


def _package_weight(package: Package) -> dict[str, Any]:
    return {"UnitOfMeasurement": POUNDS, "Weight": weight_text(package.weight_lbs)}


def _dimensions(package: Package) -> dict[str, Any] | None:
    length, width, height = package.length_in, package.width_in, package.height_in
    if length is None or width is None or height is None:
        return None
    return {
        "UnitOfMeasurement": INCHES,
        "Length": dimension_text(length),
        "Width": dimension_text(width),
        "Height": dimension_text(height),
    }


def rate_body(request: ShipmentRequest, shipper_number: str, *, shop: bool) -> dict[str, Any]:
    """Return a Rating request: one service, or every service when ``shop``."""
    package: dict[str, Any] = {
        "PackagingType": {"Code": request.package.packaging_code, "Description": "Packaging"},
        "PackageWeight": _package_weight(request.package),
    }
    dimensions = _dimensions(request.package)
    if dimensions:
        package["Dimensions"] = dimensions
    shipper = {**party(request.ship_from), "ShipperNumber": shipper_number}
    shipment: dict[str, Any] = {
        "Shipper": shipper,
        "ShipTo": party(request.ship_to, ship_to=True),
        "ShipFrom": party(request.ship_from),
        "PaymentDetails": {"ShipmentCharge": [_bill_shipper(shipper_number)]},
        "NumOfPieces": "1",
        "Package": [package],
        "ShipmentRatingOptions": {"NegotiatedRatesIndicator": "Y"},
    }
    if not shop:
        code = request.service_code
        shipment["Service"] = {"Code": code, "Description": service_name(code)[:35]}
    reference = {"CustomerContext": request.reference}
    return {"RateRequest": {"Request": {"TransactionReference": reference}, "Shipment": shipment}}


def ship_body(
    request: ShipmentRequest, shipper_number: str, *, label_format: str
) -> dict[str, Any]:
    """Return a Shipping request whose package carries the row's reference."""
    package: dict[str, Any] = {
        "Packaging": {"Code": request.package.packaging_code},
        "PackageWeight": _package_weight(request.package),
        # The first two package references print on the label; valid for US/US (CONTRACT.md).
        "ReferenceNumber": [{"Value": request.reference}],
    }
    dimensions = _dimensions(request.package)
    if dimensions:
        package["Dimensions"] = dimensions
    code = request.service_code
    shipment: dict[str, Any] = {
        "Description": f"Shipment {request.reference}",
        "Shipper": {**party(request.ship_from), "ShipperNumber": shipper_number},
        "ShipTo": party(request.ship_to, ship_to=True),
        "ShipFrom": party(request.ship_from),
        "PaymentInformation": {"ShipmentCharge": [_bill_shipper(shipper_number)]},
        "Service": {"Code": code, "Description": service_name(code)[:35]},
        "Package": [package],
        "ShipmentRatingOptions": {"NegotiatedRatesIndicator": "Y"},
    }
    return {
        "ShipmentRequest": {
            "Request": {
                # "validate": UPS checks city, state and postal code before creating anything.
                "RequestOption": "validate",
                "TransactionReference": {"CustomerContext": request.reference},
            },
            "Shipment": shipment,
            "LabelSpecification": _label_specification(label_format),
        }
    }


def _label_specification(label_format: str) -> dict[str, Any]:
    label: dict[str, Any] = {"LabelImageFormat": {"Code": label_format}}
    if label_format == "GIF":
        label["HTTPUserAgent"] = "Mozilla/4.5"
    else:
        label["LabelStockSize"] = THERMAL_LABEL_STOCK
    return label


def label_recovery_body(tracking_number: str, *, label_format: str) -> dict[str, Any]:
    """Return a Label Recovery request for one small-package tracking number."""
    return {
        "LabelRecoveryRequest": {
            "Request": {"TransactionReference": {"CustomerContext": tracking_number}},
            "LabelSpecification": _label_specification(label_format),
            "TrackingNumber": tracking_number,
        }
    }


def xav_body(address: Address) -> dict[str, Any]:
    """Return an Address Validation request (US and PR addresses)."""
    postal = postal_code(address)
    key_format: dict[str, Any] = {
        "ConsigneeName": (address.company or address.name)[:40],
        "AttentionName": address.name[:40],
        "AddressLine": [line for line in address.address_lines if line.strip()],
        "PoliticalDivision2": address.city,
        "PoliticalDivision1": address.state,
        "PostcodePrimaryLow": postal[:5],
        "PostcodeExtendedLow": postal[5:9],
        "CountryCode": address.country.upper(),
    }
    return {"XAVRequest": {"AddressKeyFormat": {k: v for k, v in key_format.items() if v}}}
