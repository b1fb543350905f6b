"""Which source columns mean which shipment field: header names recognised, and their units."""

from __future__ import annotations

import re
from collections.abc import Iterable

RECIPIENT = "recipient_name"
COMPANY = "company"
ADDRESS_1 = "address_line_1"
ADDRESS_2 = "address_line_2"
ADDRESS_3 = "address_line_3"
CITY = "city"
STATE = "state"
POSTAL_CODE = "postal_code"
COUNTRY = "country"
PHONE = "phone"
EMAIL = "email"
WEIGHT = "weight"
LENGTH = "length"
WIDTH = "width"
HEIGHT = "height"
SERVICE = "service"
PACKAGING = "packaging"
REFERENCE = "reference"

# How messages name each field ("a recipient name is required").
FIELD_LABELS = {
    RECIPIENT: "recipient name",
    COMPANY: "company",
    ADDRESS_1: "first address line",
    ADDRESS_2: "second address line",
    ADDRESS_3: "third address line",
    CITY: "city",
    STATE: "state",
    POSTAL_CODE: "postal code",
    COUNTRY: "country",
    PHONE: "phone number",
    EMAIL: "email address",
    WEIGHT: "weight",
    LENGTH: "length",
    WIDTH: "width",
    HEIGHT: "height",
    SERVICE: "service",
    PACKAGING: "packaging",
    REFERENCE: "reference",
}

# Header names, written normalised (lower case, words joined by "_").
_NAMES = {
    RECIPIENT: "recipient recipient_name name ship_to_name ship_to full_name contact "
    "contact_name customer customer_name attention attn",
    COMPANY: "company company_name business organization organisation ship_to_company",
    ADDRESS_1: "address1 address_1 address_line_1 address_line1 address street street1 "
    "street_1 street_address addr1 address_line ship_to_address ship_to_address_1",
    ADDRESS_2: "address2 address_2 address_line_2 address_line2 street2 street_2 addr2 "
    "apartment apt suite ship_to_address_2",
    ADDRESS_3: "address3 address_3 address_line_3 address_line3 street3 street_3 addr3",
    CITY: "city town locality ship_to_city",
    STATE: "state province state_province state_code province_code region ship_to_state",
    POSTAL_CODE: "zip zip_code zipcode postal_code postalcode postcode post_code postal "
    "ship_to_zip ship_to_postal_code",
    COUNTRY: "country country_code ship_to_country",
    PHONE: "phone phone_number telephone tel mobile ship_to_phone",
    EMAIL: "email e_mail email_address ship_to_email",
    SERVICE: "service service_code service_level shipping_service ship_method "
    "shipping_method ups_service",
    PACKAGING: "packaging packaging_code package_type packaging_type",
    REFERENCE: "reference order_id order order_number order_no order_ref ref "
    "reference_number po_number",
}
_MEASURES = {
    WEIGHT: ("weight package_weight wt", "lb lbs pound pounds oz ounce ounces kg kgs kilograms"),
    LENGTH: ("length len", "in inch inches cm centimeters centimetres"),
    WIDTH: ("width", "in inch inches cm centimeters centimetres"),
    HEIGHT: ("height", "in inch inches cm centimeters centimetres"),
}
UNIT_WORDS = {
    "lb": "lb", "lbs": "lb", "pound": "lb", "pounds": "lb",
    "oz": "oz", "ounce": "oz", "ounces": "oz",
    "kg": "kg", "kgs": "kg", "kilogram": "kg", "kilograms": "kg",
    "in": "in", "inch": "in", "inches": "in",
    "cm": "cm", "centimeter": "cm", "centimeters": "cm", "centimetre": "cm", "centimetres": "cm",
}  # fmt: skip


def normalise_header(name: str) -> str:
    """Return a header as compared: "Ship-To ZIP Code" -> "ship_to_zip_code"."""
    return "_".join(re.findall(r"[a-z0-9]+", name.lower()))


def _alias_table() -> dict[str, tuple[str, str]]:
    table: dict[str, tuple[str, str]] = {}
    for field, names in _NAMES.items():
        for name in names.split():
            table[name] = (field, "")
    for field, (bases, units) in _MEASURES.items():
        for base in bases.split():
            table[base] = (field, "")
            for unit in units.split():
                table[f"{base}_{unit}"] = (field, UNIT_WORDS[unit])
                table[f"{base}_in_{unit}"] = (field, UNIT_WORDS[unit])
    table.update({"weight_lbs": (WEIGHT, "lb"), "lbs": (WEIGHT, "lb"), "pounds": (WEIGHT, "lb")})
    return table


ALIASES = _alias_table()
FIELDS = tuple(FIELD_LABELS)


def recognise(header: str) -> tuple[str, str] | None:
    """Return ``(field, unit)`` for a recognised header name, else None."""
    return ALIASES.get(normalise_header(header))


def find_column(headers: Iterable[str], wanted: str) -> str | None:
    """Return the header matching ``wanted`` exactly, else ignoring case and punctuation."""
    headers = list(headers)
    if wanted in headers:
        return wanted
    target = normalise_header(wanted)
    matches = [header for header in headers if normalise_header(header) == target]
    return matches[0] if len(matches) == 1 else None


def accepted_names(field: str) -> str:
    """Return a few header names accepted for ``field``, for a message."""
    names = [name for name, (target, unit) in ALIASES.items() if target == field and not unit]
    return ", ".join(f'"{name}"' for name in names[:4])
