"""Columns are found under their common names or the source's mapping; rows map or explain."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from datasources.adapters import SourceRow
from datasources.columns import resolve_columns
from datasources.errors import SourceError
from datasources.headers import recognise
from datasources.mapping import FieldsAsRead, build_shipment
from tests.factories import DataSourceFactory
from tests.fixtures.sources import full_shipment


def _row(values: dict[str, str]) -> SourceRow:
    return SourceRow(number=1, key="1", values=values, checksum="0" * 64)


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("recipient", "recipient_name"),
        ("Name", "recipient_name"),
        ("Ship To Name", "recipient_name"),
        ("address1", "address_line_1"),
        ("Address Line 1", "address_line_1"),
        ("Street", "address_line_1"),
        ("address_line_2", "address_line_2"),
        ("City", "city"),
        ("State", "state"),
        ("Province", "state"),
        ("ZIP", "postal_code"),
        ("Postal Code", "postal_code"),
        ("Country", "country"),
        ("Phone", "phone"),
        ("E-mail", "email"),
        ("Weight", "weight"),
        ("weight_lbs", "weight"),
        ("Length", "length"),
        ("Width", "width"),
        ("Height", "height"),
        ("Service", "service"),
        ("Reference", "reference"),
        ("Order ID", "reference"),
        ("Company", "company"),
    ],
)
def test_common_header_names_are_recognised(header: str, field: str) -> None:
    recognised = recognise(header)

    assert recognised is not None
    assert recognised[0] == field


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Weight (kg)", ("weight", "kg")),
        ("weight_oz", ("weight", "oz")),
        ("Weight in lbs", ("weight", "lb")),
        ("Length (cm)", ("length", "cm")),
        ("Height inches", ("height", "in")),
    ],
)
def test_headers_can_name_a_unit(header: str, expected: tuple[str, str]) -> None:
    assert recognise(header) == expected


def test_a_full_row_becomes_a_shipment() -> None:
    values = {
        "Ship To Name": "Jane Doe",
        "Company": "Acme",
        "Address Line 1": "1 Main St",
        "Address Line 2": "Suite 4",
        "City": "Atlanta",
        "State": "GA",
        "ZIP Code": "30303",
        "Country": "US",
        "Phone": "404-555-0100",
        "Email": "jane@example.com",
        "Weight (oz)": "40",
        "Length (cm)": "30",
        "Width (cm)": "20",
        "Height (cm)": "10",
        "Service": "UPS 2nd Day Air",
        "Packaging": "Tube",
        "Order ID": "SO-1",
    }

    mapped = build_shipment(_row(values), DataSourceFactory.build())

    assert mapped.errors == []
    assert mapped.shipment == full_shipment()


def test_the_source_mapping_overrides_and_ignores_columns() -> None:
    source = DataSourceFactory.build(
        column_mapping={
            "Customer": "recipient_name",
            "Deliver To": "address1",
            "Town": "city",
            "Mass": "weight_kg",
            "Name": "",
        },
        default_service_code="01",
        default_packaging_code="04",
    )
    values = {
        "Name": "Blue widget",
        "Customer": "Jane Doe",
        "Deliver To": "1 Main St",
        "Town": "Atlanta",
        "State": "GA",
        "Zip": "30303",
        "Mass": "1",
    }

    mapped = build_shipment(_row(values), source)

    assert mapped.shipment is not None
    assert mapped.shipment.recipient_name == "Jane Doe"
    assert mapped.shipment.weight_lbs == Decimal("2.3")
    assert (mapped.shipment.service_code, mapped.shipment.packaging_code) == ("01", "04")


@pytest.mark.parametrize(
    ("mapping", "code", "words"),
    [
        ({"Town": "galaxy"}, "mapping_invalid", 'sends "Town" to "galaxy"'),
        ({"Town": "city", "City": "city"}, "mapping_invalid", 'both "Town" and "City"'),
        ({"Village": "city"}, "mapping_column_missing", '"Village"'),
    ],
)
def test_mapping_mistakes_are_explained(mapping: dict[str, str], code: str, words: str) -> None:
    headers = ["recipient", "address1", "Town", "City", "weight"]

    with pytest.raises(SourceError) as raised:
        resolve_columns(headers, DataSourceFactory.build(column_mapping=mapping))

    assert raised.value.code == code
    assert words in raised.value.message


def test_a_weight_column_is_optional_with_a_default_weight() -> None:
    source = DataSourceFactory.build(default_weight_lbs=Decimal("2"))
    values = {"recipient": "Jane", "address1": "1 Main St", "city": "Atlanta", "state": "GA"}

    mapped = build_shipment(_row({**values, "zip": "30303"}), source)

    assert mapped.shipment is not None
    assert mapped.shipment.weight_lbs == Decimal("2.0")


def test_a_row_already_shipped_is_reported_with_its_tracking_number() -> None:
    values = {
        "recipient": "Jane",
        "address1": "1 Main St",
        "city": "Atlanta",
        "state": "GA",
        "zip": "30303",
        "weight": "1",
        "Tracking Number": "1Z999AA10123456784",
    }

    mapped = build_shipment(_row(values), DataSourceFactory.build())

    assert mapped.is_valid
    assert not mapped.is_shippable
    assert mapped.already_shipped_tracking == "1Z999AA10123456784"


@pytest.mark.parametrize(
    ("cells", "as_read"),
    [
        # A wrong ZIP code only: every other field reads as a shipment would have it.
        (
            {"city": " Savannah  Port ", "state": "georgia", "service": "2nd day air"},
            FieldsAsRead("Jane Doe", "Savannah Port", "GA", "02", Decimal("2.5")),
        ),
        # No service and no weight: the source's defaults, as for a valid row.
        (
            {"service": "", "weight": ""},
            FieldsAsRead("Jane Doe", "Atlanta", "GA", "03", Decimal(1)),
        ),
        # A state, service or weight that is itself wrong, or an error value: left empty.
        (
            {"state": "XX", "service": "Teleport", "weight": "heavy", "recipient": "#N/A"},
            FieldsAsRead("", "Atlanta", "", "", None),
        ),
    ],
    ids=["wrong-zip-only", "defaults", "wrong-fields"],
)
def test_a_row_with_errors_reads_what_it_can_field_by_field(
    cells: dict[str, str], as_read: FieldsAsRead
) -> None:
    values = {
        "recipient": "Jane  Doe",
        "address1": "1 Main St",
        "city": "Atlanta",
        "state": "GA",
        "zip": "3030",  # not a ZIP code: the row has errors
        "weight": "2.5",
        "service": "Ground",
    }
    source = DataSourceFactory.build(default_weight_lbs=Decimal(1), default_service_code="03")

    mapped = build_shipment(_row({**values, **cells}), source)

    assert mapped.shipment is None
    assert mapped.as_read == as_read


def test_problems_found_while_reading_become_row_errors() -> None:
    values = {"recipient": "J", "address1": "1 St", "city": "A", "state": "GA", "zip": "30303"}
    row = SourceRow(1, "1", {**values, "weight": "1"}, "0" * 64, issues=("The row is ragged.",))

    mapped = build_shipment(row, DataSourceFactory.build())

    assert mapped.shipment is None
    assert [(e.column, e.field, e.message) for e in mapped.errors] == [
        ("", "row", "The row is ragged.")
    ]


def test_no_cell_content_makes_mapping_raise() -> None:
    rng = random.Random(4)
    alphabet = "0123456789 ,.-+=@#()abcxyzABCZ\"'\n\tézß€🙂"
    headers = [
        "recipient", "address1", "city", "state", "zip", "country", "phone",
        "email", "weight", "length", "width", "height", "service", "packaging",
    ]  # fmt: skip
    source = DataSourceFactory.build()

    for _ in range(500):
        values = {h: "".join(rng.choices(alphabet, k=rng.randint(0, 12))) for h in headers}
        mapped = build_shipment(_row(values), source)
        assert mapped.shipment is not None or mapped.errors


@pytest.mark.parametrize(
    ("columns", "words"),
    [
        ({"tracking_column": "order_id"}, 'The tracking column "order_id" is the key column'),
        ({"shipped_at_column": "Order ID"}, 'The shipped-at column "Order ID" is the key column'),
        (
            {"tracking_column": "tn", "shipped_at_column": "TN"},
            'The tracking column and the shipped-at column are both "tn"',
        ),
        ({"tracking_column": "city"}, 'The tracking column "city" holds each shipment\'s city'),
        ({"shipped_at_column": "zip"}, "holds each shipment's postal code"),
        (
            {"tracking_column": "Notes", "column_mapping": {"Notes": "recipient_name"}},
            "holds each shipment's recipient name",
        ),
    ],
)
def test_write_back_columns_that_would_overwrite_the_sources_data_are_refused(
    columns: dict[str, object], words: str
) -> None:
    headers = ["order_id", "Notes", "recipient", "address1", "city", "state", "zip", "weight"]
    source = DataSourceFactory.build(key_column="order_id", **columns)

    with pytest.raises(SourceError) as raised:
        resolve_columns(headers, source)

    assert raised.value.code == "writeback_columns"
    assert words in raised.value.message


def test_a_column_the_mapping_leaves_out_may_take_the_tracking_numbers() -> None:
    headers = ["order_id", "zip_old", "recipient", "address1", "city", "zip", "weight"]
    source = DataSourceFactory.build(
        key_column="order_id", tracking_column="zip_old", column_mapping={"zip_old": "ignore"}
    )

    assert resolve_columns(headers, source).column("postal_code") == "zip"


@pytest.mark.parametrize(
    ("defaults", "field", "words"),
    [
        ({"default_service_code": "ZZ"}, "service", 'default service, "ZZ", is not a UPS'),
        ({"default_packaging_code": "99"}, "packaging", 'default packaging, "99", is not'),
        ({"default_weight_lbs": Decimal("0")}, "weight", "default weight, 0 lb, "),
    ],
)
def test_a_default_ups_would_refuse_is_a_row_error_not_a_shipment(
    defaults: dict[str, object], field: str, words: str
) -> None:
    # Saved before the form checked defaults, or written straight to the database.
    source = DataSourceFactory.build(**defaults)
    values = {"recipient": "Jane", "address1": "1 Main St", "city": "Atlanta", "state": "GA"}
    weight = {} if "default_weight_lbs" in defaults else {"weight": "2"}

    mapped = build_shipment(_row({**values, "zip": "30303", **weight}), source)

    assert mapped.shipment is None
    assert [error.field for error in mapped.errors] == [field]
    assert words in mapped.errors[0].message
