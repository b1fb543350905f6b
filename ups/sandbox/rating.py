"""The sandbox's Rating API: ``POST /api/rating/{version}/{Rate|Shop}``."""

from __future__ import annotations

from typing import Any

from ups.answers import as_list
from ups.sandbox import exchange
from ups.sandbox.exchange import ApiCall, Reply, ups_error
from ups.sandbox.pricing import (
    Charges,
    address_lines,
    address_of,
    distance_band,
    money,
    price,
    services_for,
)
from ups.sandbox.state import SandboxState

RATE_OPTIONS = {"rate", "ratetimeintransit"}
SHOP_OPTIONS = {"shop", "shoptimeintransit"}
POUNDS = {"Code": "LBS", "Description": "Pounds"}


def success(customer_context: Any) -> dict[str, Any]:
    """Return UPS's ``Response`` block of a successful call."""
    response: dict[str, Any] = {"ResponseStatus": {"Code": "1", "Description": "Success"}}
    if isinstance(customer_context, str) and customer_context:
        response["TransactionReference"] = {"CustomerContext": customer_context}
    return response


def customer_context(request: Any) -> Any:
    """Return ``Request.TransactionReference.CustomerContext`` if the caller sent one."""
    reference = request.get("TransactionReference") if isinstance(request, dict) else None
    return reference.get("CustomerContext") if isinstance(reference, dict) else None


def rejected(state: SandboxState, endpoint: str, shipment: dict[str, Any]) -> Reply | None:
    """Return UPS's address error when the ShipTo address is on the reject list."""
    ship_to = address_of(shipment.get("ShipTo"))
    postal = str(ship_to.get("PostalCode", ""))
    if state.faults.rejects(endpoint, postal, address_lines(ship_to)):
        return ups_error(400, exchange.ADDRESS_REJECTED)
    return None


def lane(shipment: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the origin (ShipFrom, else Shipper) and destination addresses."""
    origin = address_of(shipment.get("ShipFrom")) or address_of(shipment.get("Shipper"))
    return origin, address_of(shipment.get("ShipTo"))


def quote(shipment: dict[str, Any], service: str) -> Charges:
    """Return the price of ``service`` for the shipment's first package."""
    origin, destination = lane(shipment)
    package = as_list(shipment.get("Package"))[0]
    residential = "ResidentialAddressIndicator" in destination
    return price(
        service, band=distance_band(origin, destination), package=package, residential=residential
    )


def _rated(shipment: dict[str, Any], service: str, name: str) -> dict[str, Any]:
    charges = quote(shipment, service)
    weight = {"UnitOfMeasurement": POUNDS, "Weight": f"{charges.billable_lbs}.0"}
    rated: dict[str, Any] = {
        "Service": {"Code": service, "Description": name[:35]},
        "BillingWeight": weight,
        "TransportationCharges": money(charges.transportation),
        "ServiceOptionsCharges": money(charges.surcharges),
        "TotalCharges": money(charges.total),
        "RatedPackage": [
            {
                "TransportationCharges": money(charges.transportation),
                "ServiceOptionsCharges": money(charges.surcharges),
                "TotalCharges": money(charges.total),
                "Weight": f"{charges.billable_lbs}.0",
                "BillingWeight": weight,
            }
        ],
    }
    options = shipment.get("ShipmentRatingOptions")
    if isinstance(options, dict) and "NegotiatedRatesIndicator" in options:
        rated["NegotiatedRateCharges"] = {"TotalCharge": money(charges.negotiated)}
    return rated


def handle_rate(state: SandboxState, call: ApiCall) -> Reply:
    """Rate one service, or every service of the lane for Shop."""
    option = call.params["requestoption"].lower()
    if option not in RATE_OPTIONS | SHOP_OPTIONS:
        return ups_error(400, exchange.BAD_REQUEST_OPTION)
    body = call.body["RateRequest"]
    shipment = body["Shipment"]
    refusal = rejected(state, "rate", shipment)
    if refusal:
        return refusal
    offered = services_for(*lane(shipment))
    if option in SHOP_OPTIONS:
        services = offered
    else:
        code = str(shipment.get("Service", {}).get("Code", "03"))
        if code not in offered:
            return ups_error(400, exchange.SERVICE_UNAVAILABLE_ON_LANE)
        services = {code: offered[code]}
    answer = {
        "RateResponse": {
            "Response": success(customer_context(body.get("Request"))),
            "RatedShipment": [_rated(shipment, code, name) for code, name in services.items()],
        }
    }
    return Reply.json(200, answer)
