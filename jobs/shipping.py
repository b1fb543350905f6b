"""Turn a row's stored shipment into a UPS request, and a UPS label into a stored file."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from django.core.files.base import ContentFile

from datasources.models import DataSource
from datasources.ship_from import ship_from_override_problem
from datasources.shipment import Shipment
from jobs.models import JobRow
from shipops.errors import DomainError
from ups.client import ship_from_address
from ups.types import Address, Package, ShipmentRequest, ShipResult

LABEL_EXTENSIONS = {"GIF": "gif", "ZPL": "zpl", "EPL": "epl", "SPL": "spl", "PNG": "png"}


def ship_from_for(source: DataSource) -> Address:
    """Return the source's ship-from override merged over the configured warehouse."""
    base = ship_from_address()
    override: dict[str, Any] = source.ship_from_override or {}
    if not override:
        return base
    # The admin form refuses these; a value saved another way must not ship from a wrong place.
    if problem := ship_from_override_problem(override):
        raise DomainError(
            "ship_from_invalid",
            f'The ship-from override of data source "{source.name}" {problem}. '
            "Correct it on the data source's page.",
            details={"data_source": source.pk},
        )
    lines = override.get("address_lines") or override.get("address_line")
    return Address(
        name=override.get("name", base.name),
        company=override.get("company", base.company),
        phone=override.get("phone", base.phone),
        address_lines=tuple(lines)
        if isinstance(lines, list)
        else ((lines,) if lines else base.address_lines),
        city=override.get("city", base.city),
        state=override.get("state", base.state),
        postal_code=override.get("postal_code", base.postal_code),
        country=override.get("country", base.country),
    )


def ship_from_record(address: Address) -> dict[str, Any]:
    """``address`` as JSON stores it: what a preview rated from, kept in its audit entry."""
    return {**dataclasses.asdict(address), "address_lines": list(address.address_lines)}


def shipment_request(*, row: JobRow, ship_from: Address) -> ShipmentRequest:
    """Build the UPS request for ``row``; its unique reference travels with the package."""
    shipment = Shipment.from_json(row.shipment)
    return ShipmentRequest(
        ship_from=ship_from,
        ship_to=recipient_address(shipment),
        service_code=shipment.service_code,
        package=Package(
            weight_lbs=shipment.weight_lbs,
            length_in=shipment.length_in,
            width_in=shipment.width_in,
            height_in=shipment.height_in,
            packaging_code=shipment.packaging_code or "02",
        ),
        reference=row.reference,
    )


def recipient_address(shipment: Shipment) -> Address:
    """Return the shipment's recipient as a UPS address."""
    return Address(
        name=shipment.recipient_name,
        company=shipment.company,
        phone=shipment.phone,
        email=shipment.email,
        address_lines=tuple(shipment.address_lines),
        city=shipment.city,
        state=shipment.state,
        postal_code=shipment.postal_code,
        country=shipment.country,
    )


def label_file(*, reference: str, label_format: str, content: bytes) -> ContentFile[bytes]:
    """Return the label as a file named after the row's reference (found again by recovery)."""
    extension = LABEL_EXTENSIONS.get(label_format.upper(), "bin")
    return ContentFile(content, name=f"{reference}.{extension}")


def shipped_changes(
    result: ShipResult, shipped_at: datetime, label_name: str | None
) -> dict[str, Any]:
    """Return the row fields a ship answer fills in."""
    return {
        "tracking_number": result.tracking_number,
        "shipment_id": result.shipment_id,
        "actual_cost_cents": result.total_cents,
        "shipped_at": shipped_at,
        "label": label_name or "",
        "label_format": result.label_format,
        "error_code": "",
        "error_message": "",
    }
