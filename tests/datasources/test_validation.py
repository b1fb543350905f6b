"""Each rule: a value normalised, or one per-row message naming the column and the problem."""

from __future__ import annotations

from decimal import Decimal

import pytest

from datasources.adapters import SourceRow
from datasources.geo import CA_PROVINCES, US_STATES, clean_state
from datasources.mapping import build_shipment
from datasources.models import DataSource
from datasources.shipment import Shipment
from datasources.units import parse_weight_lbs
from datasources.validation import Invalid
from tests.factories import DataSourceFactory

BASE = {
    "recipient": "Jane Doe",
    "company": "",
    "address1": "1 Main St",
    "city": "Atlanta",
    "state": "GA",
    "zip": "30303",
    "country": "US",
    "phone": "",
    "email": "",
    "weight": "2.5",
    "length": "",
    "width": "",
    "height": "",
    "service": "",
}


def _map(source: DataSource | None = None, **changes: str) -> tuple[Shipment | None, list[str]]:
    values = {**BASE, **changes}
    row = SourceRow(number=1, key="1", values=values, checksum="0" * 64)
    mapped = build_shipment(row, source or DataSourceFactory.build())
    return mapped.shipment, [error.message for error in mapped.errors]


@pytest.mark.parametrize(
    ("changes", "field", "expected"),
    [
        ({"zip": "303281234"}, "postal_code", "30328-1234"),
        ({"zip": " 30328 1234 "}, "postal_code", "30328-1234"),
        ({"state": "georgia"}, "state", "GA"),
        ({"state": "g.a."}, "state", "GA"),
        ({"country": "usa"}, "country", "US"),
        ({"country": ""}, "country", "US"),
        ({"country": "CA", "state": "Ontario", "zip": "k1a0b1"}, "postal_code", "K1A 0B1"),
        ({"country": "GB", "state": "", "zip": "SW1A 1AA"}, "postal_code", "SW1A 1AA"),
        ({"weight": "40 oz"}, "weight_lbs", Decimal("2.5")),
        ({"weight": "1 kg"}, "weight_lbs", Decimal("2.3")),
        ({"weight": "2.01"}, "weight_lbs", Decimal("2.1")),
        ({"weight": "150"}, "weight_lbs", Decimal("150.0")),
        ({"phone": "(404) 555-0100 x12"}, "phone", "4045550100"),
        ({"phone": "+1 404.555.0100"}, "phone", "4045550100"),
        ({"service": "UPS Next Day Air"}, "service_code", "01"),
        ({"service": "2"}, "service_code", "02"),
        ({"service": ""}, "service_code", "03"),
        ({"recipient": "  Jane   Doe "}, "recipient_name", "Jane Doe"),
        ({"length": "30 cm", "width": "20", "height": "10"}, "length_in", Decimal("11.9")),
        ({"length": "12", "width": "12", "height": "12"}, "height_in", Decimal("12.0")),
    ],
)
def test_values_are_normalised(changes: dict[str, str], field: str, expected: object) -> None:
    shipment, errors = _map(None, **changes)

    assert errors == []
    assert getattr(shipment, field) == expected


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"zip": "3030"}, 'Column "zip": "3030" is not a US ZIP code (5 digits or ZIP+4).'),
        ({"zip": ""}, 'Column "zip" is empty; a postal code is required for US addresses.'),
        ({"state": "ZZ"}, 'Column "state": "ZZ" is not a US state (two letters, such as AL).'),
        (
            {"state": ""},
            'Column "state" is empty; a state or province is required for US addresses.',
        ),
        (
            {"country": "CA", "state": "Texas", "zip": "K1A 0B1"},
            'Column "state": "Texas" is not a Canadian province (two letters, such as AB).',
        ),
        (
            {"country": "CA", "zip": "30303", "state": "ON"},
            'Column "zip": "30303" is not a Canadian postal code (such as K1A 0B1).',
        ),
        (
            {"country": "Narnia"},
            'Column "country": "Narnia" is not an ISO 3166 country code '
            "(two letters, such as US or CA).",
        ),
        ({"weight": "0"}, 'Column "weight": "0" must be more than 0 lb.'),
        ({"weight": "-2"}, 'Column "weight": "-2" must be more than 0 lb.'),
        (
            {"weight": "151"},
            'Column "weight": "151" is more than 150 lb, the most UPS accepts for one package.',
        ),
        (
            {"weight": "70 kg"},
            'Column "weight": "70 kg" is more than 150 lb, the most UPS accepts for one package.',
        ),
        (
            {"weight": "2 cm"},
            'Column "weight": "2 cm" has the unit "cm", which is not a weight unit (lb, oz, kg).',
        ),
        (
            {"weight": ""},
            'Column "weight" is empty; a weight is required '
            "(or set a default weight on the data source).",
        ),
        (
            {"phone": "555-0100"},
            'Column "phone": "555-0100" is not a phone number (10 digits, area code first).',
        ),
        ({"phone": "call me"}, 'Column "phone": "call me" is not a phone number.'),
        ({"email": "jane@"}, 'Column "email": "jane@" is not an email address.'),
        ({"recipient": ""}, 'Column "recipient" is empty; a recipient name is required.'),
        ({"address1": ""}, 'Column "address1" is empty; a first address line is required.'),
        ({"city": " "}, 'Column "city" is empty; a city is required.'),
        (
            {"company": "A" * 36},
            f'Column "company": "{"A" * 36}" is 36 characters long; UPS accepts at most 35.',
        ),
        (
            {"length": "60", "width": "40", "height": "30"},
            "The package is too big: length plus girth is 60.0 + 2 x (40.0 + 30.0) = 200.0 in; "
            "UPS accepts at most 165 in.",
        ),
        (
            {"length": "110", "width": "5", "height": "5"},
            "The package is too big: the longest side is 110.0 in; UPS accepts at most 108 in.",
        ),
        (
            {"length": "10", "height": "5"},
            'Column "width" is empty; give length, width and height together, or none of them.',
        ),
        (
            {"service": "Teleport"},
            'Column "service": "Teleport" is not a UPS service; use a name such as "Ground" '
            'or a code such as "03".',
        ),
    ],
)
def test_broken_values_give_one_clear_message(changes: dict[str, str], message: str) -> None:
    shipment, errors = _map(None, **changes)

    assert shipment is None
    assert errors == [message]


def test_the_default_weight_fills_blank_cells_only() -> None:
    source = DataSourceFactory.build(default_weight_lbs=Decimal("1.25"))

    blank, blank_errors = _map(source, weight="")
    given, given_errors = _map(source, weight="3")

    assert blank_errors == given_errors == []
    assert blank is not None
    assert blank.weight_lbs == Decimal("1.3")
    assert given is not None
    assert given.weight_lbs == Decimal("3.0")


def test_every_state_and_province_is_known_by_code_and_name() -> None:
    for country, regions in (("US", US_STATES), ("CA", CA_PROVINCES)):
        for code, name in regions.items():
            assert clean_state(code.lower(), country=country) == code
            assert clean_state(name.upper(), country=country) == code
    assert len(US_STATES) == 59
    assert len(CA_PROVINCES) == 13


@pytest.mark.parametrize(
    ("text", "unit", "pounds"),
    [
        ("2,5", "lb", "2.5"),  # a decimal comma (a semicolon file from a European Excel)
        ("12,50 kg", "lb", "27.6"),
        ("0,125", "lb", "0.2"),  # no thousands group starts with 0
        ("1,250.5 oz", "lb", "78.2"),  # thousands, with a decimal point
        ("1250 oz", "lb", "78.2"),
        ("40", "oz", "2.5"),
    ],
)
def test_weights_take_decimal_commas_and_thousands_separators(
    text: str, unit: str, pounds: str
) -> None:
    assert parse_weight_lbs(text, unit=unit) == Decimal(pounds)


@pytest.mark.parametrize("text", ["1,250 oz", "2,000", "+1,500"])
def test_a_comma_that_may_be_either_is_refused_not_guessed(text: str) -> None:
    # "1,250 oz" was 78.2 lb; in a file with decimal commas it means 1.25 oz.
    with pytest.raises(Invalid, match=r"could mean \+?\d+ or, with a decimal comma, \+?\d\.\d+"):
        parse_weight_lbs(text)


@pytest.mark.parametrize(
    "text", ["1.250,5", "1,2,3", ",5", "1,", pytest.param(" " * 5000 + "!", id="5000 blanks")]
)
def test_other_mixes_of_points_and_commas_are_not_numbers(text: str) -> None:
    with pytest.raises(Invalid, match="is not a weight"):
        parse_weight_lbs(text)


def test_a_number_longer_than_decimal_precision_is_an_error_not_a_crash() -> None:
    with pytest.raises(Invalid, match="far too large"):
        parse_weight_lbs("9" * 30)


def test_a_province_that_grows_when_upper_cased_is_measured_after() -> None:
    with pytest.raises(Invalid, match="longer than the 5 characters"):
        clean_state("ßßßß", country="DE")  # "SSSSSSSS" once upper-cased
    assert clean_state("ßß", country="DE") == "SSSS"
