"""The sandbox's Tracking API: by tracking number and by reference, from the ledger."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from ups.sandbox import exchange
from ups.sandbox.exchange import ApiCall, Reply, ups_error
from ups.sandbox.ledger import LedgerEntry
from ups.sandbox.state import SandboxState
from ups.service_codes import service_name

LABEL_CREATED = {
    "type": "M",
    "code": "MP",
    "description": "Shipper created a label, UPS has not received the package yet.",
    "simplifiedTextDescription": "Label Created",
    "statusCode": "003",
}
VOIDED = {
    "type": "X",
    "code": "VD",
    "description": "The shipment was voided.",
    "simplifiedTextDescription": "Voided",
    "statusCode": "031",
}
REFERENCE_SEARCH_DAYS = 14


def _activity(status: dict[str, str], when: datetime) -> dict[str, Any]:
    return {
        "date": when.strftime("%Y%m%d"),
        "time": when.strftime("%H%M%S"),
        "gmtDate": when.strftime("%Y%m%d"),
        "gmtTime": when.strftime("%H:%M:%S"),
        "gmtOffset": "+00:00",
        "status": status,
    }


def _package(entry: LedgerEntry) -> dict[str, Any]:
    status = VOIDED if entry.voided else LABEL_CREATED
    # Newest first, as UPS lists them: the label created, then a void.
    activity = [_activity(LABEL_CREATED, entry.created_at)]
    if entry.voided_at is not None:
        activity.insert(0, _activity(VOIDED, entry.voided_at))
    return {
        "trackingNumber": entry.tracking_number,
        "currentStatus": status,
        "activity": activity,
        "referenceNumber": [{"type": "SHIPMENT", "number": entry.reference}]
        if entry.reference
        else [],
        "service": {"code": entry.service_code, "description": service_name(entry.service_code)},
        "weight": {"unitOfMeasurement": "LBS", "weight": entry.weight_lbs},
        "packageCount": 1,
    }


def _answer(inquiry: str, entries: list[LedgerEntry]) -> Reply:
    shipments = [{"inquiryNumber": inquiry, "package": [_package(entry)]} for entry in entries]
    return Reply.json(200, {"trackResponse": {"shipment": shipments}})


def handle_track(state: SandboxState, call: ApiCall) -> Reply:
    """Track one package by its tracking number."""
    number = call.params["inquiryNumber"]
    if not 7 <= len(number) <= 34:
        return ups_error(400, exchange.BAD_INQUIRY)
    entries = state.ledger.find(tracking_number=number)
    return _answer(number, entries) if entries else ups_error(404, exchange.TRACKING_NOT_FOUND)


def _day(raw: str | None, default: date) -> date | None:
    if not raw:
        return default
    try:
        return datetime.strptime(raw, "%Y%m%d").date()
    except ValueError:
        return None


def handle_track_by_reference(state: SandboxState, call: ApiCall) -> Reply:
    """Track the packages shipped with a reference between two pickup days."""
    reference = call.params["referenceNumber"]
    today = datetime.now(UTC).date()  # the ledger's days are UTC days
    query = call.request.query
    first = _day(query.get("fromPickUpDate"), today - timedelta(days=REFERENCE_SEARCH_DAYS))
    last = _day(query.get("toPickUpDate"), today)
    if first is None or last is None:
        return ups_error(400, exchange.BAD_PICKUP_DATE)
    entries = state.ledger.picked_up_between(reference, first, last)
    shipper = query.get("shipperNum")
    if shipper:
        entries = [entry for entry in entries if entry.shipper_number == shipper]
    return _answer(reference, entries) if entries else ups_error(404, exchange.TRACKING_NOT_FOUND)
