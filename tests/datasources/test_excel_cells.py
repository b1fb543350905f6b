"""Excel cells with nothing to ship: error values and formulas never calculated are row errors."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Sequence
from decimal import Decimal

import pytest
from openpyxl import Workbook

from datasources.errors import SourceError
from datasources.mapping import MappedRow, read_shipments
from datasources.models import DataSource
from tests.fixtures.sheet_xml import SHEET_PART, edit_sheet_xml, replace_cell
from tests.fixtures.sources import ORDER_HEADERS, order_rows, xlsx_bytes

MakeExcel = Callable[..., DataSource]
EXCEL_ERRORS = ["#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!"]
NO_RESULT = (
    'Column "{}" holds a formula with no saved result: open and save the workbook in Excel first.'
)


def _errors(row: MappedRow) -> list[tuple[str, str, str]]:
    return [(error.column, error.field, error.message) for error in row.errors]


def _sheet_xml(data: bytes) -> str:
    return zipfile.ZipFile(io.BytesIO(data)).read(SHEET_PART).decode()


@pytest.mark.parametrize("error", EXCEL_ERRORS)
def test_an_error_value_makes_its_row_invalid(excel_source: MakeExcel, error: str) -> None:
    rows: list[list[object]] = [list(row) for row in order_rows(2)]
    rows[1][ORDER_HEADERS.index("address1")] = error
    data = xlsx_bytes({"Orders": rows})
    assert f'<c r="C2" t="e"><v>{error}</v></c>' in _sheet_xml(data), "an Excel error cell"

    first, second = read_shipments(excel_source(data))

    assert first.shipment is None
    assert _errors(first) == [
        ("address1", "address_line_1", f'Column "address1" holds the spreadsheet error {error}.')
    ]
    assert second.is_valid


def test_a_lookup_that_failed_in_excel_is_an_error_not_a_city(excel_source: MakeExcel) -> None:
    failed = '<c r="D2" t="e"><f>VLOOKUP(F2,Cities!A:B,2,FALSE)</f><v>#N/A</v></c>'
    data = edit_sheet_xml(xlsx_bytes({"Orders": order_rows(2)}), replace_cell("D2", failed))

    first, second = read_shipments(excel_source(data))

    assert _errors(first) == [("city", "city", 'Column "city" holds the spreadsheet error #N/A.')]
    assert second.is_valid


def test_a_weight_formula_never_calculated_is_an_error_not_the_default_weight(
    excel_source: MakeExcel,
) -> None:
    def lookup(workbook: Workbook) -> None:
        workbook["Orders"]["H2"] = "=VLOOKUP(A2,Weights!A:B,2,FALSE)"

    sheets: dict[str, Sequence[Sequence[object]]] = {
        "Orders": order_rows(2),
        "Weights": [["SO-00001", 40]],
    }
    data = xlsx_bytes(sheets, build=lookup)

    first, second = read_shipments(excel_source(data, default_weight_lbs=Decimal(1)))

    assert first.shipment is None
    assert _errors(first) == [("weight", "weight", NO_RESULT.format("weight"))]
    assert second.shipment is not None
    assert second.shipment.weight_lbs == Decimal("2.5")


@pytest.mark.parametrize(
    "cell",
    [
        '<c r="B2"><f>CONCAT(A2," ",A3)</f><v/></c>',
        '<c r="B2" t="str"><f>CONCAT(A2," ",A3)</f></c>',
        '<c r="B2" t="b"><f>ISBLANK(A2)</f><v></v></c>',
        '<c r="B2"><f t="shared" si="0"/></c>',
    ],
    ids=["empty result", "no result", "boolean formula", "shared formula"],
)
def test_any_formula_never_calculated_is_an_error_for_its_column(
    excel_source: MakeExcel, cell: str
) -> None:
    data = edit_sheet_xml(xlsx_bytes({"Orders": order_rows(2)}), replace_cell("B2", cell))

    first, second = read_shipments(excel_source(data))

    assert _errors(first) == [("recipient", "recipient_name", NO_RESULT.format("recipient"))]
    assert second.is_valid


def test_a_formula_excel_saved_as_empty_text_reads_as_an_empty_cell(
    excel_source: MakeExcel,
) -> None:
    # How Excel saves =IF(..., "", ...) that chose the empty text: a string result, empty.
    blank = '<c r="G2" t="str"><f>IF(TRUE,"","CA")</f><v></v></c>'
    data = edit_sheet_xml(xlsx_bytes({"Orders": order_rows(1)}), replace_cell("G2", blank))

    [row] = read_shipments(excel_source(data))

    assert row.shipment is not None
    assert row.shipment.country == "US"


def test_a_tracking_formula_never_calculated_stops_the_row_before_it_ships(
    excel_source: MakeExcel,
) -> None:
    # Its write-back would be refused (formulas are never overwritten) after the parcel shipped.
    def tracking(workbook: Workbook) -> None:
        workbook["Orders"]["J1"] = "tracking_number"
        workbook["Orders"]["J2"] = '=IFERROR(VLOOKUP(A2,Shipped!A:B,2,FALSE),"")'

    data = xlsx_bytes({"Orders": order_rows(2)}, build=tracking)

    first, second = read_shipments(excel_source(data))

    assert first.already_shipped_tracking == ""
    assert _errors(first) == [
        ("tracking_number", "tracking_number", NO_RESULT.format("tracking_number"))
    ]
    assert second.is_shippable


def test_a_row_of_formulas_never_calculated_is_not_taken_for_a_blank_row(
    excel_source: MakeExcel,
) -> None:
    # A workbook a script wrote: every cell of row 3 a formula whose result was never saved.
    def formulas_only(workbook: Workbook) -> None:
        sheet = workbook["Orders"]
        for column in range(1, len(ORDER_HEADERS) + 1):
            sheet.cell(row=3, column=column, value=f"=Data!A{column}")

    data = xlsx_bytes({"Orders": order_rows(3), "Data": [["x"]]}, build=formulas_only)

    by_number = list(read_shipments(excel_source(data)))
    assert [(row.row.number, row.is_valid) for row in by_number] == [
        (1, True),
        (2, False),
        (3, True),
    ]
    with pytest.raises(SourceError) as refused:
        list(read_shipments(excel_source(data, key_column="order_id")))
    assert refused.value.code == "key_blank"
    assert refused.value.message == (
        'Row 2 of "orders.xlsx": the key column "order_id" holds a formula with no saved '
        "result: open and save the workbook in Excel first."
    )
