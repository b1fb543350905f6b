"""Every row of a sheet is read, in its place; a sheet whose XML misplaces rows is refused."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from datasources.adapters.excel_file import ExcelAdapter
from datasources.errors import SourceError
from datasources.models import DataSource
from tests.fixtures.sheet_xml import edit_sheet_xml, sheet_rows
from tests.fixtures.sources import order_rows, xlsx_bytes

MakeExcel = Callable[..., DataSource]
REPAIR = "open the workbook in Excel, repair it and save it again."


def _orders(edit: Callable[[str], str], count: int = 3) -> bytes:
    return edit_sheet_xml(xlsx_bytes({"Orders": order_rows(count)}), edit)


def _refusal(source: DataSource) -> SourceError:
    with pytest.raises(SourceError) as raised:
        list(ExcelAdapter(source).iter_rows())
    return raised.value


def _row_four_before_row_three(xml: str) -> str:
    rows = sheet_rows(xml)
    return xml.replace(rows[2] + rows[3], rows[3] + rows[2])


def _row_three_as_row_two(xml: str) -> str:
    third = sheet_rows(xml)[2]
    return xml.replace(third, re.sub(r'r="([A-Z]*)3"', r'r="\g<1>2"', third))


def test_rows_stored_out_of_order_refuse_the_workbook(excel_source: MakeExcel) -> None:
    error = _refusal(excel_source(_orders(_row_four_before_row_three)))

    assert error.code == "workbook_corrupt"
    assert error.message == (
        'The sheet "Orders" of "orders.xlsx" is damaged: row 3 is stored after row 4, so rows '
        f"could be lost or misplaced; {REPAIR}"
    )


def test_a_row_stored_twice_refuses_the_workbook(excel_source: MakeExcel) -> None:
    error = _refusal(excel_source(_orders(_row_three_as_row_two), sheet_name="orders"))

    assert (error.code, error.source) == ("workbook_corrupt", "orders.xlsx [orders]")
    assert error.message == (
        'The sheet "Orders" of "orders.xlsx" is damaged: row 2 is stored twice, so rows could '
        f"be lost or misplaced; {REPAIR}"
    )


def test_a_cell_stored_in_another_row_refuses_the_workbook(excel_source: MakeExcel) -> None:
    error = _refusal(excel_source(_orders(lambda xml: xml.replace('r="C3"', 'r="C4"'))))

    assert error.message == (
        'The sheet "Orders" of "orders.xlsx" is damaged: cell C4 is stored in row 3, so rows '
        f"could be lost or misplaced; {REPAIR}"
    )


def test_a_cell_stored_twice_refuses_the_workbook(excel_source: MakeExcel) -> None:
    error = _refusal(excel_source(_orders(lambda xml: xml.replace('r="D2"', 'r="C2"'))))

    assert error.message == (
        'The sheet "Orders" of "orders.xlsx" is damaged: cell C2 is stored twice, so rows '
        f"could be lost or misplaced; {REPAIR}"
    )


def test_rows_left_out_of_the_xml_are_blank_rows_still_counted(excel_source: MakeExcel) -> None:
    adapter = ExcelAdapter(excel_source(_orders(lambda xml: xml.replace(sheet_rows(xml)[2], ""))))

    rows = list(adapter.iter_rows())

    assert [(row.number, row.values["order_id"]) for row in rows] == [
        (1, "SO-00001"),
        (3, "SO-00003"),
    ]


def test_rows_and_cells_without_numbers_are_read_in_sequence(excel_source: MakeExcel) -> None:
    unnumbered = _orders(lambda xml: re.sub(r' r="[A-Z]*\d+"', "", xml))

    rows = list(ExcelAdapter(excel_source(unnumbered)).iter_rows())

    assert [row.values["order_id"] for row in rows] == ["SO-00001", "SO-00002", "SO-00003"]
    assert rows[2].values["service"] == "Ground"


def test_every_row_and_column_is_read_whatever_the_dimension_says(
    excel_source: MakeExcel,
) -> None:
    small = _orders(lambda xml: re.sub(r'<dimension ref="[^"]*"', '<dimension ref="A1:B2"', xml))

    rows = list(ExcelAdapter(excel_source(small)).iter_rows())

    assert [row.values["order_id"] for row in rows] == ["SO-00001", "SO-00002", "SO-00003"]
    assert rows[2].values["service"] == "Ground"
