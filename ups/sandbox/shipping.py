"""The sandbox's Shipping API: ship (creates a ledger entry and a label) and void."""

from __future__ import annotations

import base64
from typing import Any

from ups.answers import as_list
from ups.sandbox import exchange
from ups.sandbox.exchange import ApiCall, Reply, ups_error
from ups.sandbox.labels import LabelContent, render_label
from ups.sandbox.ledger import LedgerEntry
from ups.sandbox.pricing import (
    address_lines,
    address_of,
    is_domestic,
    money,
    package_pounds,
    services_for,
)
from ups.sandbox.rating import customer_context, lane, quote, rejected, success
from ups.sandbox.state import SandboxState
from ups.service_codes import service_name
from ups.tracking_numbers import make_tracking_number

LABEL_FORMATS = ("GIF", "ZPL")
THERMAL_HEIGHTS = ("6", "8")


def label_problem(label: dict[str, Any]) -> bool:
    """Whether a LabelSpecification asks for a format or stock the sandbox cannot draw."""
    code = str(label.get("LabelImageFormat", {}).get("Code", "")).upper()
    if code not in LABEL_FORMATS:
        return True
    stock = label.get("LabelStockSize") or {}
    return code != "GIF" and (
        stock.get("Height") not in THERMAL_HEIGHTS or stock.get("Width") != "4"
    )


def _postal_code_invalid(shipment: dict[str, Any]) -> bool:
    origin, destination = lane(shipment)
    if not is_domestic(origin, destination):
        return False
    postal = str(destination.get("PostalCode", ""))
    return not (postal.isdigit() and len(postal) in (5, 9))


def _printable(party: Any) -> tuple[str, ...]:
    address = address_of(party)
    name = party.get("Name", "") if isinstance(party, dict) else ""
    place = " ".join(
        str(address.get(key, "")) for key in ("City", "StateProvinceCode", "PostalCode")
    )
    return tuple(line for line in (str(name), *address_lines(address), place) if line.strip())


def _reference(package: dict[str, Any]) -> str:
    references = as_list(package.get("ReferenceNumber"))
    first = references[0] if references else {}
    return str(first.get("Value", "")) if isinstance(first, dict) else ""


def handle_ship(state: SandboxState, call: ApiCall) -> Reply:
    """Create a shipment: ledger entry, 1Z tracking number, label, charges."""
    body = call.body["ShipmentRequest"]
    shipment, label_spec = body["Shipment"], body.get("LabelSpecification") or {}
    request = body.get("Request", {})
    if str(request.get("RequestOption", "")).lower() == "validate" and _postal_code_invalid(
        shipment
    ):
        return ups_error(400, exchange.BAD_POSTAL_CODE)
    refusal = rejected(state, "ship", shipment)
    if refusal:
        return refusal
    service = str(shipment["Service"]["Code"])
    if service not in services_for(*lane(shipment)):
        return ups_error(400, exchange.SERVICE_UNAVAILABLE_ON_LANE)
    if label_problem(label_spec):
        return ups_error(400, exchange.BAD_LABEL)
    label_format = str(label_spec["LabelImageFormat"]["Code"]).upper()
    package = as_list(shipment["Package"])[0]
    shipper_number = str(shipment["Shipper"]["ShipperNumber"])
    tracking_number = make_tracking_number(shipper_number, service, state.ledger.next_package_id())
    charges = quote(shipment, service)
    weight = f"{package_pounds(package):.1f}"
    reference = _reference(package)
    content = LabelContent(
        tracking_number=tracking_number,
        service_name=service_name(service),
        ship_from=_printable(shipment.get("ShipFrom") or shipment["Shipper"]),
        ship_to=_printable(shipment["ShipTo"]),
        weight=weight,
        reference=reference,
    )
    label = render_label(label_format, content)
    ship_to = address_of(shipment["ShipTo"])
    state.ledger.add(
        LedgerEntry(
            shipment_id=tracking_number,  # one package: UPS uses its number as the shipment id
            tracking_number=tracking_number,
            reference=reference,
            shipper_number=shipper_number,
            service_code=service,
            ship_to={"name": shipment["ShipTo"].get("Name", ""), **ship_to},
            weight_lbs=weight,
            total_cents=charges.total,
            currency="USD",
            label_format=label_format,
            trans_id=call.request.header("transId") or "",
            label=content,
        )
    )
    results = {
        "ShipmentCharges": {
            "TransportationCharges": money(charges.transportation),
            "ServiceOptionsCharges": money(charges.surcharges),
            "TotalCharges": money(charges.total),
        },
        "NegotiatedRateCharges": {"TotalCharge": money(charges.negotiated)},
        # The published schema wants exactly eight characters here.
        "BillingWeight": {
            "UnitOfMeasurement": {"Code": "LBS", "Description": "Pounds"},
            "Weight": f"{charges.billable_lbs:08.1f}",
        },
        "ShipmentIdentificationNumber": tracking_number,
        "PackageResults": [
            {
                "TrackingNumber": tracking_number,
                "ShippingLabel": {
                    "ImageFormat": {"Code": label_format, "Description": label_format},
                    "GraphicImage": base64.b64encode(label).decode(),
                },
            }
        ],
    }
    if "NegotiatedRatesIndicator" not in (shipment.get("ShipmentRatingOptions") or {}):
        del results["NegotiatedRateCharges"]
    response = success(customer_context(request))
    return Reply.json(200, {"ShipmentResponse": {"Response": response, "ShipmentResults": results}})


def _tracking_numbers(raw: str | None) -> list[str]:
    if not raw:
        return []
    return [item.strip().strip('"') for item in raw.strip("[]").split(",") if item.strip()]


def handle_void(state: SandboxState, call: ApiCall) -> Reply:
    """Void a shipment of the ledger; voiding it again answers the same success."""
    shipment_id = call.params["shipmentidentificationnumber"]
    known = state.ledger.find(shipment_id=shipment_id)
    if not known:
        return ups_error(400, exchange.VOID_UNKNOWN)
    wanted = _tracking_numbers(call.request.query.get("trackingnumber"))
    if any(number != known[0].tracking_number for number in wanted):
        return ups_error(400, exchange.VOID_PACKAGE_UNKNOWN)
    entry = state.ledger.void(shipment_id)
    if entry is None:  # a reset came in between
        return ups_error(400, exchange.VOID_UNKNOWN)
    voided = {"Code": "1", "Description": "Voided"}
    answer = {
        "VoidShipmentResponse": {
            "Response": success(None),
            "SummaryResult": {"Status": voided},
            "PackageLevelResults": [{"TrackingNumber": entry.tracking_number, "Status": voided}],
        }
    }
    return Reply.json(200, answer)
