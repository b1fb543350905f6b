"""Property tests: mapping and validation take any cell text, and what they keep round-trips.

Hypothesis writes arbitrary text (and text that looks like the real thing)
into every column of a row. Mapping must never raise for a row's content: it
returns either a Shipment or errors that each name a column or a field, and a
Shipment survives ``to_json``/``from_json`` unchanged. Weights and lengths
with units convert to pounds and inches within UPS's bounds, rounded up to a
tenth, never below the amount written.
"""

from __future__ import annotations

import json
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from datasources.adapters import SourceRow
from datasources.columns import resolve_columns
from datasources.geo import clean_postal_code, clean_state
from datasources.headers import FIELDS
from datasources.mapping import build_shipment
from datasources.shipment import Shipment
from datasources.units import (
    MAX_WEIGHT_LBS,
    TO_INCHES,
    TO_POUNDS,
    parse_length_in,
    parse_weight_lbs,
)
from datasources.validation import MAX_CITY, MAX_NAME, Invalid, clean_email, clean_phone
from tests.factories import DataSourceFactory

HEADERS = [
    "recipient",
    "company",
    "address1",
    "address2",
    "city",
    "state",
    "zip",
    "country",
    "phone",
    "email",
    "weight",
    "length",
    "width",
    "height",
    "service",
    "packaging",
    "reference",
]
PROPERTY = settings(max_examples=150, deadline=None)
# Cells people really write, mixed with any text at all (control characters, RTL, emoji).
PLAUSIBLE = {
    "recipient": st.sampled_from(["Ada Lovelace", "", "  José  Núñez "]),
    "state": st.sampled_from(["GA", "ga", "Georgia", "ON", "", "N.Y."]),
    "zip": st.sampled_from(["30303", "30303-1234", "K1A 0B1", "3030", "", "303031234"]),
    "country": st.sampled_from(["US", "usa", "CA", "Canada", "GB", "", "XX"]),
    "weight": st.sampled_from(["2.5", "3 lb", "40 oz", "1,000", "0", "-1", "2kg", "1e3", ""]),
    "length": st.sampled_from(["10", "30 cm", '12"', "", "0.01"]),
    "service": st.sampled_from(["Ground", "03", "3", "UPS Next Day Air®", "", "Teleport"]),
    "phone": st.sampled_from(["404-555-0100", "+1 (404) 555-0100 x12", "12", ""]),
    "email": st.sampled_from(["ada@example.com", "not an email", ""]),
}


def cell(header: str) -> st.SearchStrategy[str]:
    anything = st.text(max_size=60)
    plausible = PLAUSIBLE.get(header, st.sampled_from(["Atlanta", "1 Main St", ""]))
    return st.one_of(plausible, anything)


rows = st.fixed_dictionaries({header: cell(header) for header in HEADERS})


@PROPERTY
@given(values=rows)
def test_mapping_never_raises_and_explains_every_refusal(values: dict[str, str]) -> None:
    source = DataSourceFactory.build(key_column="reference", tracking_column="tracking_number")
    columns = resolve_columns(HEADERS, source)
    row = SourceRow(number=1, key="k", values=values, checksum="0" * 64)

    mapped = build_shipment(row, source, columns=columns)

    if mapped.shipment is None:
        assert mapped.errors
        for error in mapped.errors:
            assert error.column in HEADERS or error.field in FIELDS or error.field == "dimensions"
            assert error.message.strip()
            json.dumps(error.to_json())  # stored as JSON on the row
    else:
        assert mapped.errors == []
        shipment = mapped.shipment
        assert Shipment.from_json(json.loads(json.dumps(shipment.to_json()))) == shipment
        assert 0 < shipment.weight_lbs <= MAX_WEIGHT_LBS
        assert 0 < len(shipment.recipient_name) <= MAX_NAME
        assert 0 < len(shipment.city) <= MAX_CITY
        assert 1 <= len(shipment.address_lines) <= 3
        assert all(0 < len(line) <= MAX_NAME for line in shipment.address_lines)
        assert len(shipment.country) == 2


@PROPERTY
@given(text=st.text(max_size=40), unit=st.sampled_from(["", "lb", "oz", "kg"]))
def test_a_weight_is_a_bounded_tenth_of_a_pound_or_invalid(text: str, unit: str) -> None:
    try:
        pounds = parse_weight_lbs(text, unit=unit)
    except Invalid:
        return  # refused with a message (Invalid always carries one)
    assert Decimal("0.1") <= pounds <= MAX_WEIGHT_LBS
    assert pounds == pounds.quantize(Decimal("0.1"))


@PROPERTY
@given(
    amount=st.decimals(min_value=Decimal("0.001"), max_value=Decimal(10_000), places=3),
    unit=st.sampled_from([*TO_POUNDS, *TO_INCHES]),
    space=st.sampled_from(["", " "]),
)
def test_a_quantity_converts_up_to_the_next_tenth_never_down(
    amount: Decimal, unit: str, space: str
) -> None:
    weight = unit in TO_POUNDS
    exact = amount * (TO_POUNDS if weight else TO_INCHES)[unit]
    parse = parse_weight_lbs if weight else parse_length_in
    try:
        converted = parse(f"{amount}{space}{unit}")
    except Invalid:  # only a weight over UPS's limit
        assert weight
        assert exact.quantize(Decimal("0.1"), rounding="ROUND_UP") > MAX_WEIGHT_LBS
        return
    assert exact <= converted < exact + Decimal("0.1")


@PROPERTY
@given(text=st.text(max_size=30), country=st.sampled_from(["US", "PR", "CA", "GB", "DE"]))
def test_cleaners_raise_only_invalid_and_are_idempotent(text: str, country: str) -> None:
    for clean in (
        lambda value: clean_postal_code(value, country=country),
        lambda value: clean_state(value, country=country),
        lambda value: clean_phone(value, country=country),
        clean_email,
    ):
        try:
            once = clean(text)
        except Invalid:
            continue
        assert clean(once) == once
