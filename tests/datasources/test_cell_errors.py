"""A cell holding a spreadsheet's failure instead of a value is a row error, from any source."""

from __future__ import annotations

from decimal import Decimal

import pytest

from datasources.adapters import SourceRow
from datasources.mapping import MappedRow, build_shipment
from tests.factories import DataSourceFactory

VALID = {
    "recipient": "Jane Doe",
    "address1": "1 Main St",
    "city": "Atlanta",
    "state": "GA",
    "zip": "30303",
    "weight": "2",
}
NO_RESULT = "holds a formula with no saved result: open and save the workbook in Excel first"


def _mapped(values: dict[str, str], problems: dict[str, str] | None = None) -> MappedRow:
    row = SourceRow(1, "1", {**VALID, **values}, "0" * 64, cell_problems=problems or {})
    return build_shipment(row, DataSourceFactory.build(default_weight_lbs=Decimal(1)))


def _errors(mapped: MappedRow) -> list[tuple[str, str, str]]:
    return [(error.column, error.field, error.message) for error in mapped.errors]


@pytest.mark.parametrize("text", ["#N/A", " #REF! ", "#VALUE!", "#div/0!", "#NAME?", "#NULL!"])
def test_text_that_is_a_spreadsheet_error_is_a_row_error(text: str) -> None:
    # A CSV saved by Excel writes a failed lookup as the text "#N/A".
    mapped = _mapped({"city": text})

    assert mapped.shipment is None
    assert _errors(mapped) == [
        ("city", "city", f'Column "city" holds the spreadsheet error {text.strip()}.')
    ]


@pytest.mark.parametrize("text", ["N/A", "#1", "Suite #N/A 4", "#NUM"])
def test_text_that_only_looks_like_an_error_is_data(text: str) -> None:
    mapped = _mapped({"address2": text})

    assert mapped.shipment is not None
    assert mapped.shipment.address_lines == ("1 Main St", text)


def test_a_cell_the_source_could_not_read_gives_one_error_and_no_default() -> None:
    mapped = _mapped({"weight": ""}, {"weight": NO_RESULT})

    assert mapped.shipment is None
    assert _errors(mapped) == [("weight", "weight", f'Column "weight" {NO_RESULT}.')]


def test_dimensions_with_an_unreadable_cell_give_one_error() -> None:
    sizes = {"length": "", "width": "8", "height": "4"}

    mapped = _mapped(sizes, {"length": NO_RESULT})

    assert _errors(mapped) == [("length", "length", f'Column "length" {NO_RESULT}.')]


def test_columns_shipops_does_not_use_may_hold_errors() -> None:
    mapped = _mapped({"notes": "#N/A", "picked_by": ""}, {"picked_by": NO_RESULT})

    assert mapped.shipment is not None


def test_an_error_in_the_tracking_column_is_not_a_tracking_number() -> None:
    mapped = _mapped({"tracking_number": "#N/A"})

    assert mapped.shipment is None
    assert mapped.already_shipped_tracking == ""
    assert _errors(mapped) == [
        (
            "tracking_number",
            "tracking_number",
            'Column "tracking_number" holds the spreadsheet error #N/A.',
        )
    ]
