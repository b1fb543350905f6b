"""The normalised shipment a valid source row becomes; JobRow stores its JSON form."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

DEFAULT_PACKAGING_CODE = "02"


def _decimal_or_none(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


@dataclass(frozen=True, kw_only=True)
class Shipment:
    """One package to one recipient, already checked against UPS's rules."""

    recipient_name: str
    company: str = ""
    address_lines: tuple[str, ...]
    city: str
    state: str
    postal_code: str
    country: str = "US"
    phone: str = ""
    email: str = ""
    weight_lbs: Decimal
    length_in: Decimal | None = None
    width_in: Decimal | None = None
    height_in: Decimal | None = None
    service_code: str
    packaging_code: str = DEFAULT_PACKAGING_CODE
    reference: str = ""

    @property
    def has_dimensions(self) -> bool:
        """Return True when length, width and height are all known."""
        return None not in (self.length_in, self.width_in, self.height_in)

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-safe dict: Decimals as strings, address lines as a list."""
        return {
            "recipient_name": self.recipient_name,
            "company": self.company,
            "address_lines": list(self.address_lines),
            "city": self.city,
            "state": self.state,
            "postal_code": self.postal_code,
            "country": self.country,
            "phone": self.phone,
            "email": self.email,
            "weight_lbs": str(self.weight_lbs),
            "length_in": None if self.length_in is None else str(self.length_in),
            "width_in": None if self.width_in is None else str(self.width_in),
            "height_in": None if self.height_in is None else str(self.height_in),
            "service_code": self.service_code,
            "packaging_code": self.packaging_code,
            "reference": self.reference,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Shipment:
        """Rebuild a shipment from ``to_json()`` output; optional keys may be absent."""
        return cls(
            recipient_name=str(data["recipient_name"]),
            company=str(data.get("company", "")),
            address_lines=tuple(str(line) for line in data["address_lines"]),
            city=str(data["city"]),
            state=str(data.get("state", "")),
            postal_code=str(data.get("postal_code", "")),
            country=str(data.get("country") or "US"),
            phone=str(data.get("phone", "")),
            email=str(data.get("email", "")),
            weight_lbs=Decimal(str(data["weight_lbs"])),
            length_in=_decimal_or_none(data.get("length_in")),
            width_in=_decimal_or_none(data.get("width_in")),
            height_in=_decimal_or_none(data.get("height_in")),
            service_code=str(data.get("service_code") or "03"),
            packaging_code=str(data.get("packaging_code") or DEFAULT_PACKAGING_CODE),
            reference=str(data.get("reference", "")),
        )
