"""Deterministic sandbox prices: from billable weight, distance band and service.

price = base + per-pound x billable pounds x band factor (+ residential surcharge),
negotiated = 82 % of it. Billable pounds: the actual weight or the dimensional
weight (L x W x H / 139), whichever is larger, rounded up to a whole pound.
The distance band of a US lane is 2..8 from how far apart the first three
digits of the two ZIP codes are; an international lane is band 9.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from ups.answers import as_list
from ups.service_codes import DOMESTIC_SERVICES, INTERNATIONAL_SERVICES

# service code -> (base cents, cents per billable pound)
PRICES = {
    "03": (1050, 95),
    "12": (1900, 160),
    "02": (2400, 260),
    "59": (2900, 300),
    "13": (3300, 360),
    "01": (3600, 400),
    "14": (6600, 450),
    "11": (2200, 210),
    "08": (5200, 520),
    "65": (5800, 560),
    "07": (6200, 600),
    "54": (9500, 700),
}
RESIDENTIAL_SURCHARGE_CENTS = 550
NEGOTIATED_SHARE = Decimal("0.82")
DIM_DIVISOR = Decimal(139)
TO_POUNDS = {"LBS": Decimal(1), "KGS": Decimal("2.20462"), "OZS": Decimal("0.0625")}
TO_INCHES = {"IN": Decimal(1), "CM": Decimal("0.393701")}
DOMESTIC_COUNTRIES = {"US", "PR"}


@dataclass(frozen=True)
class Charges:
    """One service's price for one package, in cents."""

    transportation: int
    surcharges: int
    negotiated: int
    billable_lbs: int

    @property
    def total(self) -> int:
        """Return transportation plus surcharges."""
        return self.transportation + self.surcharges


def _number(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return Decimal(0)


def address_of(party: Any) -> dict[str, Any]:
    """Return the ``Address`` object of a Shipper, ShipTo or ShipFrom (empty if absent)."""
    address = party.get("Address") if isinstance(party, dict) else None
    return address if isinstance(address, dict) else {}


def address_lines(address: dict[str, Any]) -> list[str]:
    """Return the address lines (UPS sends one line as a string, several as an array)."""
    return [str(line) for line in as_list(address.get("AddressLine"))]


def is_domestic(origin: dict[str, Any], destination: dict[str, Any]) -> bool:
    """Return True for a US (or PR) to US (or PR) lane."""
    return {origin.get("CountryCode"), destination.get("CountryCode")} <= DOMESTIC_COUNTRIES


def services_for(origin: dict[str, Any], destination: dict[str, Any]) -> dict[str, str]:
    """Return the services offered on a lane, code -> name."""
    return DOMESTIC_SERVICES if is_domestic(origin, destination) else INTERNATIONAL_SERVICES


def distance_band(origin: dict[str, Any], destination: dict[str, Any]) -> int:
    """Return the lane's distance band, 2 (near) to 8 (far), 9 for international."""
    if not is_domestic(origin, destination):
        return 9
    prefixes = [str(address.get("PostalCode", ""))[:3] for address in (origin, destination)]
    if not all(prefix.isdigit() for prefix in prefixes):
        return 8
    return 2 + min(6, abs(int(prefixes[0]) - int(prefixes[1])) // 100)


def package_pounds(package: Any) -> Decimal:
    """Return a package's actual weight in pounds."""
    weight = package.get("PackageWeight", {}) if isinstance(package, dict) else {}
    unit = str(weight.get("UnitOfMeasurement", {}).get("Code", "LBS")).upper()
    return _number(weight.get("Weight")) * TO_POUNDS.get(unit, Decimal(1))


def billable_pounds(package: Any) -> int:
    """Return the larger of actual and dimensional weight, rounded up to a pound."""
    pounds = package_pounds(package)
    dimensions = package.get("Dimensions") if isinstance(package, dict) else None
    if isinstance(dimensions, dict):
        unit = str(dimensions.get("UnitOfMeasurement", {}).get("Code", "IN")).upper()
        factor = TO_INCHES.get(unit, Decimal(1))
        volume = math.prod(
            _number(dimensions.get(side)) * factor for side in ("Length", "Width", "Height")
        )
        pounds = max(pounds, volume / DIM_DIVISOR)
    return max(1, math.ceil(pounds))


def price(service: str, *, band: int, package: Any, residential: bool) -> Charges:
    """Return the deterministic price of ``service`` for one package on a lane."""
    base, per_pound = PRICES.get(service, (5000, 500))
    billable = billable_pounds(package)
    factor = Decimal(1) + Decimal("0.12") * (band - 2)
    transportation = int((base + per_pound * billable * factor).to_integral_value())
    surcharges = RESIDENTIAL_SURCHARGE_CENTS if residential else 0
    negotiated = int(((transportation + surcharges) * NEGOTIATED_SHARE).to_integral_value())
    return Charges(transportation, surcharges, negotiated, billable)


def money(cents: int, currency: str = "USD") -> dict[str, str]:
    """Return UPS's ``{CurrencyCode, MonetaryValue}`` for an amount in cents."""
    return {"CurrencyCode": currency, "MonetaryValue": f"{cents // 100}.{cents % 100:02d}"}
