"""UPS service codes and their names (CONTRACT.md "Service codes")."""

from __future__ import annotations

DOMESTIC_SERVICES = {
    "01": "UPS Next Day Air",
    "02": "UPS 2nd Day Air",
    "03": "UPS Ground",
    "12": "UPS 3 Day Select",
    "13": "UPS Next Day Air Saver",
    "14": "UPS Next Day Air Early",
    "59": "UPS 2nd Day Air A.M.",
}
INTERNATIONAL_SERVICES = {
    "07": "UPS Worldwide Express",
    "08": "UPS Worldwide Expedited",
    "11": "UPS Standard",
    "54": "UPS Worldwide Express Plus",
    "65": "UPS Worldwide Saver",
}
SERVICE_NAMES = {**DOMESTIC_SERVICES, **INTERNATIONAL_SERVICES}


def service_name(code: str) -> str:
    """Return the service's name, or ``UPS service <code>`` for a code not listed."""
    return SERVICE_NAMES.get(code, f"UPS service {code}")
