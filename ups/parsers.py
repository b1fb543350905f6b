"""UPS's success answers, read into our dataclasses (CONTRACT.md "Where the answer is")."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Any

from ups.answers import MalformedAnswer, as_list, cents, dig, optional, text
from ups.types import (
    Address,
    AddressClassification,
    AddressIndicator,
    AddressValidation,
    RateQuote,
    RecoveredLabel,
    ShipResult,
    TrackedPackage,
    VoidResult,
)

CLASSIFICATIONS: dict[str, AddressClassification] = {
    "0": "unclassified",
    "1": "commercial",
    "2": "residential",
}
NOT_FOUND_CODES = frozenset({"TW0001"})


def _negotiated(data: Any, *path: str) -> int | None:
    if optional(data, *path) is None:
        return None
    return cents(data, *path)[0]


def parse_rates(body: Any) -> list[RateQuote]:
    """Read every rated service of a Rate or Shop answer."""
    shipments = as_list(dig(body, "RateResponse", "RatedShipment"))
    if not shipments:
        raise MalformedAnswer("RateResponse.RatedShipment is empty")
    quotes = []
    for rated in shipments:
        total, currency = cents(rated, "TotalCharges")
        quotes.append(
            RateQuote(
                service_code=text(rated, "Service", "Code"),
                total_cents=total,
                currency=currency,
                negotiated_cents=_negotiated(rated, "NegotiatedRateCharges", "TotalCharge"),
            )
        )
    return quotes


def _decoded(data: Any, *path: str) -> bytes:
    try:
        return base64.b64decode(text(data, *path), validate=True)
    except (binascii.Error, ValueError):
        raise MalformedAnswer(f"{'.'.join(path)} is not base64") from None


def parse_ship(body: Any) -> ShipResult:
    """Read the tracking number, cost and label of a Ship answer."""
    results = dig(body, "ShipmentResponse", "ShipmentResults")
    package = dig(results, "PackageResults", 0)
    total, currency = cents(results, "ShipmentCharges", "TotalCharges")
    tracking_number = text(package, "TrackingNumber")
    label = _decoded(package, "ShippingLabel", "GraphicImage")
    if not tracking_number or not label:
        raise MalformedAnswer("the tracking number or the label is empty")
    return ShipResult(
        tracking_number=tracking_number,
        shipment_id=text(results, "ShipmentIdentificationNumber"),
        total_cents=total,
        currency=currency,
        label_format=text(package, "ShippingLabel", "ImageFormat", "Code").upper(),
        label_bytes=label,
        negotiated_cents=_negotiated(results, "NegotiatedRateCharges", "TotalCharge"),
    )


def parse_label_recovery(body: Any, tracking_number: str) -> RecoveredLabel:
    """Read the label of ``tracking_number`` from a Label Recovery answer.

    ``LabelResults`` is one object for a one-package shipment (an array in the
    spec: ``ups.spec_defects``); the result for the number asked is taken.
    """
    results = as_list(dig(body, "LabelRecoveryResponse", "LabelResults"))
    matching = [item for item in results if optional(item, "TrackingNumber") == tracking_number]
    if not matching:
        raise MalformedAnswer(f"LabelRecoveryResponse.LabelResults has no {tracking_number}")
    image = dig(matching[0], "LabelImage")
    label = _decoded(image, "GraphicImage")
    if not label:
        raise MalformedAnswer("LabelImage.GraphicImage is empty")
    return RecoveredLabel(
        tracking_number=tracking_number,
        label_format=text(image, "LabelImageFormat", "Code").upper(),
        label_bytes=label,
    )


def parse_void(body: Any, shipment_id: str) -> VoidResult:
    """Read a Void answer; status code 1 means voided now or already voided."""
    status = dig(body, "VoidShipmentResponse", "SummaryResult", "Status")
    code = text(status, "Code")
    return VoidResult(
        shipment_id=shipment_id,
        voided=code == "1",
        status_code=code,
        description=str(optional(status, "Description") or ""),
    )


def _indicator(response: Any) -> AddressIndicator:
    if "ValidAddressIndicator" in response:
        return "valid"
    if "AmbiguousAddressIndicator" in response:
        return "ambiguous"
    if "NoCandidatesIndicator" in response:
        return "no_candidates"
    raise MalformedAnswer("XAVResponse.ValidAddressIndicator (or another indicator) is missing")


def _classification(data: Any) -> AddressClassification:
    return CLASSIFICATIONS.get(str(optional(data, "AddressClassification", "Code")), "unclassified")


def _candidate(candidate: Any) -> Address:
    key_format = dig(candidate, "AddressKeyFormat")
    primary = str(optional(key_format, "PostcodePrimaryLow") or "")
    extended = str(optional(key_format, "PostcodeExtendedLow") or "")
    classification = _classification(candidate)
    return Address(
        name=str(optional(key_format, "ConsigneeName") or ""),
        address_lines=tuple(str(line) for line in as_list(optional(key_format, "AddressLine"))),
        city=str(optional(key_format, "PoliticalDivision2") or ""),
        state=str(optional(key_format, "PoliticalDivision1") or ""),
        postal_code=f"{primary}-{extended}" if extended else primary,
        country=text(key_format, "CountryCode"),
        residential=None if classification == "unclassified" else classification == "residential",
    )


def parse_xav(body: Any) -> AddressValidation:
    """Read an Address Validation answer: indicator, classification, candidates."""
    response = dig(body, "XAVResponse")
    if not isinstance(response, dict):
        raise MalformedAnswer("XAVResponse is not an object")
    return AddressValidation(
        indicator=_indicator(response),
        classification=_classification(response),
        candidates=tuple(_candidate(item) for item in as_list(response.get("Candidate"))),
    )


def parse_track(body: Any) -> list[TrackedPackage]:
    """Read every package of a Track answer (an empty list when UPS found nothing)."""
    packages = []
    for shipment in as_list(dig(body, "trackResponse", "shipment")):
        found = as_list(optional(shipment, "package"))
        lead = str(optional(found, 0, "trackingNumber") or "")
        for package in found:
            status = optional(package, "currentStatus") or {}
            packages.append(
                TrackedPackage(
                    tracking_number=text(package, "trackingNumber"),
                    status=str(
                        optional(status, "simplifiedTextDescription")
                        or optional(status, "description")
                        or ""
                    ),
                    reference_numbers=tuple(
                        str(optional(item, "number") or "")
                        for item in as_list(optional(package, "referenceNumber"))
                    ),
                    # For UPS small package the lead package's number is the shipment's id.
                    shipment_id=lead,
                    status_code=str(optional(status, "code") or ""),
                    first_seen_at=_first_activity_at(package),
                )
            )
    return packages


def _first_activity_at(package: Any) -> datetime | None:
    """Return the time of the package's earliest activity (UTC), skipping unreadable ones."""
    times = []
    for activity in as_list(optional(package, "activity")):
        day = str(optional(activity, "gmtDate") or "")
        # "07:47:00", or as the spec's example writes it, "74700".
        clock = str(optional(activity, "gmtTime") or "").replace(":", "")
        if not clock:
            continue
        try:
            read = datetime.strptime(day + clock.zfill(6), "%Y%m%d%H%M%S")
            times.append(read.replace(tzinfo=UTC))
        except ValueError:
            continue
    return min(times, default=None)
