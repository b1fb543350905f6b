"""A data source's ship-from override: which address fields it may set, and their checks."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from datasources.geo import clean_country, clean_postal_code, clean_state
from datasources.validation import MAX_CITY, MAX_NAME, Invalid, clean_phone, clean_text, shown
from ups.client import ship_from_address

MAX_ADDRESS_LINES = 3  # UPS takes three address lines
# The keys of a data source's ship-from override that ship_from_for applies; the
# address lines may be one string or a list of strings, every other value is a string.
SHIP_FROM_KEYS = (
    "name", "company", "phone", "address_lines", "address_line", "city", "state", "postal_code",
    "country",
)  # fmt: skip
LINE_KEYS = frozenset({"address_lines", "address_line"})


def ship_from_override_problem(override: object) -> str:
    """Return what keeps ``override`` from being a ship-from override, or "" if nothing does."""
    if not isinstance(override, dict):
        return f"must be a JSON object of address fields, not {_json_kind(override)}"
    unknown = [str(key) for key in override if key not in SHIP_FROM_KEYS]
    if unknown:
        names = ", ".join(f'"{key}"' for key in unknown)
        return (
            f"has {'an unknown key' if len(unknown) == 1 else 'unknown keys'} {names}; "
            f"the address fields are {', '.join(SHIP_FROM_KEYS)}"
        )
    if "address_lines" in override and "address_line" in override:
        return 'gives both "address_lines" and "address_line": keep one'
    for key, value in override.items():
        if isinstance(value, str):
            continue
        if key not in LINE_KEYS:
            return f'gives "{key}" as {_json_kind(value)}; it must be a string'
        if not isinstance(value, list):
            return f'gives "{key}" as {_json_kind(value)}; it must be a string or a list of strings'
        if not all(isinstance(line, str) for line in value):
            return f'gives "{key}" with a line that is not a string'
    return ""


def _json_kind(value: object) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "null" if value is None else "an object"


def checked_ship_from(override: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Return a ship-from override with its values checked and written as a row's would be.

    Also return what is wrong with them, for the person who typed them.
    """
    problems: list[str] = []

    def check(key: str, value: str, clean: Callable[[str], str]) -> str:
        if not value.strip() and key in {"name", "city", "address_line", "address_lines"}:
            problems.append(f'"{key}" is empty: leave it out to keep the warehouse\'s.')
            return value
        try:
            return clean(value)
        except Invalid as error:
            problems.append(f'"{key}": "{shown(value)}" {error.problem}.')
            return value

    checked = dict(override)
    country: str | None = ship_from_address().country
    if "country" in override:
        checked["country"] = check("country", override["country"], clean_country)
        # A country that is not one leaves the state, postal code and phone unchecked.
        country = None if problems else checked["country"]
    cleaners: dict[str, Callable[[str], str]] = {
        "name": partial(clean_text, limit=MAX_NAME),
        "company": partial(clean_text, limit=MAX_NAME),
        "address_line": partial(clean_text, limit=MAX_NAME),
        "address_lines": partial(clean_text, limit=MAX_NAME),
        "city": partial(clean_text, limit=MAX_CITY),
    }
    if country is not None:
        cleaners["state"] = partial(clean_state, country=country)
        cleaners["postal_code"] = partial(clean_postal_code, country=country)
        cleaners["phone"] = lambda value: clean_phone(value, country=country) if value else ""
    for key, clean in cleaners.items():
        value = override.get(key)
        if isinstance(value, list):
            if len(value) > MAX_ADDRESS_LINES:
                problems.append(f'"{key}" has {len(value)} lines; UPS takes {MAX_ADDRESS_LINES}.')
            checked[key] = [check(key, line, clean) for line in value]
        elif value is not None:
            checked[key] = check(key, value, clean)
    return checked, problems
