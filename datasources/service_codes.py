"""UPS service and packaging names, as people write them, and their codes."""

from __future__ import annotations

import re

from datasources.validation import Invalid
from ups.service_codes import SERVICE_NAMES

# Names as UPS writes them ("UPS Ground"); _squash drops the "UPS" prefix when matching.
SERVICES = SERVICE_NAMES
PACKAGING = {
    "01": "UPS Letter",
    "02": "Customer Supplied Package",
    "03": "Tube",
    "04": "PAK",
    "21": "UPS Express Box",
    "24": "UPS 25KG Box",
    "25": "UPS 10KG Box",
    "30": "Pallet",
}
# Other ways of writing a name, already squashed (see _squash).
SERVICE_ALIASES = {
    "nextdayair": "01", "nextday": "01", "overnight": "01", "nda": "01", "1dayair": "01",
    "2nddayair": "02", "seconddayair": "02", "2dayair": "02", "2day": "02", "2da": "02",
    "ground": "03", "gnd": "03", "3dayselect": "12", "3day": "12",
    "nextdayairsaver": "13", "nextdaysaver": "13", "nextdayairearly": "14",
    "nextdayairearlyam": "14", "earlyam": "14", "2nddayairam": "59", "standard": "11",
    "worldwideexpress": "07", "worldwideexpedited": "08", "expedited": "08",
    "worldwideexpressplus": "54", "worldwidesaver": "65", "expresssaver": "65",
}  # fmt: skip
PACKAGING_ALIASES = {
    "letter": "01", "envelope": "01", "customersupplied": "02", "customersuppliedpackage": "02",
    "package": "02", "yourpackaging": "02", "box": "02", "tube": "03", "pak": "04",
    "expressbox": "21", "25kgbox": "24", "10kgbox": "25", "pallet": "30",
}  # fmt: skip


def _squash(value: str) -> str:
    text = re.sub(r"[®™]", "", value.lower())
    text = re.sub(r"^ups\s*", "", text.strip())
    return re.sub(r"[^a-z0-9]", "", text)


def _code(value: str, table: dict[str, str], aliases: dict[str, str]) -> str | None:
    text = value.strip()
    if text.isdigit() and len(text) <= 2:
        return text.zfill(2) if text.zfill(2) in table else None
    squashed = _squash(text)
    by_name = {_squash(name): code for code, name in table.items()}
    return by_name.get(squashed) or aliases.get(squashed)


def clean_service(value: str) -> str:
    """Return the UPS service code for a code ("03", "3") or a name ("UPS Ground")."""
    code = _code(value, SERVICES, SERVICE_ALIASES)
    if code is None:
        raise Invalid('is not a UPS service; use a name such as "Ground" or a code such as "03"')
    return code


def clean_packaging(value: str) -> str:
    """Return the UPS packaging code for a code ("02") or a name ("Tube")."""
    code = _code(value, PACKAGING, PACKAGING_ALIASES)
    if code is None:
        raise Invalid('is not a UPS packaging type; use a name such as "Package" or a code "02"')
    return code
