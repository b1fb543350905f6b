"""What the UPS client takes and returns: frozen dataclasses, money in integer cents."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

REFERENCE_MAX_LENGTH = 35

AddressIndicator = Literal["valid", "ambiguous", "no_candidates"]
AddressClassification = Literal["unclassified", "commercial", "residential"]


@dataclass(frozen=True)
class Address:
    """A postal address as UPS wants it; ``residential`` None means not known."""

    name: str
    address_lines: tuple[str, ...]
    city: str
    state: str
    postal_code: str
    country: str
    phone: str = ""
    company: str = ""
    email: str = ""
    residential: bool | None = None


@dataclass(frozen=True)
class Package:
    """One parcel: weight in pounds, optional dimensions in inches."""

    weight_lbs: Decimal
    length_in: Decimal | None = None
    width_in: Decimal | None = None
    height_in: Decimal | None = None
    packaging_code: str = "02"

    def __post_init__(self) -> None:
        if self.weight_lbs <= 0:
            raise ValueError(f"A package must weigh more than 0 lb, not {self.weight_lbs}.")
        dimensions = (self.length_in, self.width_in, self.height_in)
        if any(value is not None for value in dimensions) and any(
            value is None or value <= 0 for value in dimensions
        ):
            raise ValueError("Give all three package dimensions (length, width, height) or none.")


@dataclass(frozen=True)
class ShipmentRequest:
    """One row to rate or ship; ``reference`` is the row's unique reference (max 35)."""

    ship_from: Address
    ship_to: Address
    service_code: str
    package: Package
    reference: str

    def __post_init__(self) -> None:
        if not 1 <= len(self.reference) <= REFERENCE_MAX_LENGTH:
            raise ValueError(
                f"A shipment reference has 1 to {REFERENCE_MAX_LENGTH} characters, "
                f"not {len(self.reference)}."
            )


@dataclass(frozen=True)
class RateQuote:
    """The price of one service; ``negotiated_cents`` when the account has negotiated rates."""

    service_code: str
    total_cents: int
    currency: str
    negotiated_cents: int | None


@dataclass(frozen=True)
class ShipResult:
    """A created shipment: tracking number, cost and the label image."""

    tracking_number: str
    shipment_id: str
    total_cents: int
    currency: str
    label_format: str
    label_bytes: bytes
    negotiated_cents: int | None = None

    def __repr__(self) -> str:
        # The label is tens of kilobytes: keep it out of logs and tracebacks.
        return (
            f"ShipResult(tracking_number={self.tracking_number!r}, "
            f"shipment_id={self.shipment_id!r}, total_cents={self.total_cents}, "
            f"currency={self.currency!r}, label_format={self.label_format!r}, "
            f"label_bytes=<{len(self.label_bytes)} bytes>)"
        )


@dataclass(frozen=True)
class RecoveredLabel:
    """The label of an existing shipment, fetched again from UPS (Label Recovery)."""

    tracking_number: str
    label_format: str
    label_bytes: bytes

    def __repr__(self) -> str:
        return (
            f"RecoveredLabel(tracking_number={self.tracking_number!r}, "
            f"label_format={self.label_format!r}, label_bytes=<{len(self.label_bytes)} bytes>)"
        )


@dataclass(frozen=True)
class VoidResult:
    """UPS's answer to a void: ``voided`` is True when voided now or before."""

    shipment_id: str
    voided: bool
    status_code: str
    description: str


@dataclass(frozen=True)
class AddressValidation:
    """The street-level validation of one address, with UPS's candidates."""

    indicator: AddressIndicator
    classification: AddressClassification
    candidates: tuple[Address, ...]


@dataclass(frozen=True)
class TrackedPackage:
    """One package UPS knows about; ``status`` is UPS's short description."""

    tracking_number: str
    status: str
    reference_numbers: tuple[str, ...]
    shipment_id: str = ""
    status_code: str = ""
    # When UPS first saw it (its earliest activity: the label created), in UTC; None if
    # the answer gives no activity time ShipOps can read.
    first_seen_at: datetime | None = None
