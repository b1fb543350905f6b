"""Excel workbooks: a sheet read faithfully; write-back changes its cells and nothing else."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Callable, Sequence

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill

from datasources.adapters import WriteBack
from datasources.adapters.excel_file import ExcelAdapter, _column_letter
from datasources.errors import SourceError
from datasources.models import DataSource
from tests.fixtures.sheet_xml import with_cached_values
from tests.fixtures.sources import (
    ORDER_HEADERS,
    order_row,
    order_rows,
    xlsx_bytes,
)

SHIPPED_AT = dt.datetime(2024, 5, 1, 14, 30, tzinfo=dt.UTC)
STAMP = "2024-05-01T14:30:00+00:00"
TRACKING = "1Z999AA10123456784"
MakeExcel = Callable[..., DataSource]
SHEET = "xl/worksheets/sheet1.xml"


def _update(key: str, tracking: str = TRACKING) -> WriteBack:
    return WriteBack(key, tracking, SHIPPED_AT)


def _members(data: bytes) -> dict[str, bytes]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    return {name: archive.read(name) for name in archive.namelist()}


def test_reads_the_first_visible_sheet_and_says_so(excel_source: MakeExcel) -> None:
    sheets: dict[str, Sequence[Sequence[object]]] = {"Old": [["Notes"]], "Orders": order_rows(2)}
    data = xlsx_bytes(sheets, hidden={"Old"})
    adapter = ExcelAdapter(excel_source(data))

    rows = list(adapter.iter_rows())

    assert [row.values["recipient"] for row in rows] == ["Customer 1", "Customer 2"]
    assert '"Old"' in adapter.notices()[0]


def test_reads_a_named_sheet_even_a_hidden_one(excel_source: MakeExcel) -> None:
    sheets: dict[str, Sequence[Sequence[object]]] = {
        "Summary": [["Total", 2]],
        "May Orders": order_rows(2),
    }
    data = xlsx_bytes(sheets, hidden={"May Orders"})
    adapter = ExcelAdapter(excel_source(data, sheet_name="may orders"))

    assert [row.key for row in adapter.iter_rows()] == ["1", "2"]
    assert adapter.notices() == []
    assert adapter.display == "orders.xlsx [may orders]"


def test_finds_the_header_below_title_rows(excel_source: MakeExcel) -> None:
    def title(workbook: Workbook) -> None:
        sheet = workbook["Orders"]
        sheet.insert_rows(1, 3)
        sheet["A1"] = "Orders export for May"
        sheet.merge_cells("A1:F1")
        sheet["A2"] = "Generated 2024-05-01"

    adapter = ExcelAdapter(excel_source(xlsx_bytes({"Orders": order_rows(2)}, build=title)))

    assert adapter.headers() == ORDER_HEADERS
    assert [row.number for row in adapter.iter_rows()] == [1, 2]


def test_numbers_and_dates_are_normalised(excel_source: MakeExcel) -> None:
    rows: list[list[object]] = [
        ["order_id", "zip", "zip4", "weight", "width", "ordered", "picked_at", "gift"],
        [
            1001.0,
            2134,
            303281234,
            2.0,
            0.1 + 0.2,
            dt.date(2024, 5, 1),
            dt.datetime(2024, 5, 1, 9, 5),
            True,
        ],
    ]

    def formats(workbook: Workbook) -> None:
        workbook["Orders"]["B2"].number_format = "00000"
        workbook["Orders"]["C2"].number_format = "00000-0000"

    adapter = ExcelAdapter(excel_source(xlsx_bytes({"Orders": rows}, build=formats)))

    [row] = adapter.iter_rows()

    assert row.values == {
        "order_id": "1001",
        "zip": "02134",
        "zip4": "30328-1234",
        "weight": "2",
        "width": "0.3",
        "ordered": "2024-05-01",
        "picked_at": "2024-05-01T09:05:00",
        "gift": "TRUE",
    }


def test_formulas_are_read_as_their_saved_result(excel_source: MakeExcel) -> None:
    def formula(workbook: Workbook) -> None:
        workbook["Orders"]["H2"] = "=1+1.5"

    data = with_cached_values(xlsx_bytes({"Orders": order_rows(1)}, build=formula), {"H2": "2.5"})

    [row] = ExcelAdapter(excel_source(data)).iter_rows()

    assert row.values["weight"] == "2.5"


def _rich_workbook(workbook: Workbook) -> None:
    orders = workbook["Orders"]
    orders["J1"] = "double"
    for cell in orders[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="FFFF00")
    orders.column_dimensions["B"].width = 31.5
    for row in range(2, orders.max_row + 1):
        orders[f"J{row}"] = f"=H{row}*2"
        orders[f"H{row}"].number_format = "0.00"
    summary = workbook.create_sheet("Summary")
    summary["A1"] = "Rows"
    summary["B1"] = "=COUNTA(Orders!A:A)-1"
    summary.column_dimensions["A"].width = 12


def test_write_back_keeps_everything_else(excel_source: MakeExcel) -> None:
    built = xlsx_bytes({"Orders": order_rows(3)}, build=_rich_workbook)
    data = with_cached_values(built, {"J2": "5", "J3": "5", "J4": "5"})
    adapter = ExcelAdapter(excel_source(data))
    checksums = {row.key: row.checksum for row in adapter.iter_rows()}

    adapter.write_back([_update("1"), _update("3", "1Z999AA10123456795")])

    after = adapter.path().read_bytes()
    old_parts, new_parts = _members(data), _members(after)
    assert list(new_parts) == list(old_parts)
    assert {n for n in old_parts if old_parts[n] != new_parts[n]} == {SHEET}

    workbook = load_workbook(io.BytesIO(after))
    orders = workbook["Orders"]
    assert [c.value for c in orders[1]] == [
        *ORDER_HEADERS,
        "double",
        "tracking_number",
        "shipped_at",
    ]
    assert orders["K2"].value == TRACKING
    assert orders["K2"].data_type == "s"
    assert orders["L4"].value == STAMP
    assert orders["K3"].value is None
    assert orders["J3"].value == "=H3*2"
    assert orders["H3"].number_format == "0.00"
    assert orders.column_dimensions["B"].width == 31.5
    assert orders["K1"].font.bold
    assert orders["L1"].fill.fgColor.rgb == "00FFFF00"
    assert workbook["Summary"]["B1"].value == "=COUNTA(Orders!A:A)-1"

    cached = load_workbook(io.BytesIO(after), data_only=True)["Orders"]
    assert cached["J2"].value == 5, "saved formula results survive"
    assert {row.key: row.checksum for row in adapter.iter_rows()} == checksums


def test_write_back_into_existing_columns_keeps_their_style(excel_source: MakeExcel) -> None:
    rows = [[*ORDER_HEADERS, "Tracking Number", "Shipped At"], [*order_row(1), "", ""]]

    def styled(workbook: Workbook) -> None:
        workbook["Orders"]["J2"].font = Font(italic=True)
        workbook["Orders"]["J2"] = "placeholder"

    adapter = ExcelAdapter(excel_source(xlsx_bytes({"Orders": rows}, build=styled)))

    adapter.write_back([_update("1")])

    sheet = load_workbook(adapter.path())["Orders"]
    assert sheet.max_column == 11
    assert sheet["J2"].value == TRACKING
    assert sheet["J2"].font.italic
    assert sheet["K2"].value == STAMP


def test_later_flushes_reuse_the_columns_and_follow_outside_edits(
    excel_source: MakeExcel, write_source: Callable[[str, bytes], object]
) -> None:
    adapter = ExcelAdapter(excel_source(order_rows(3), key_column="order_id"))
    list(adapter.iter_rows())

    adapter.write_back([_update("SO-00001")])
    adapter.write_back([_update("SO-00002", "1Z999AA10123456795")])
    first = load_workbook(adapter.path())["Orders"]
    # Someone inserts a row above ours and saves: the next flush must find SO-00003 again.
    write_source(
        "orders.xlsx", xlsx_bytes({"Orders": [*order_rows(0), order_row(9), *order_rows(3)[1:]]})
    )
    adapter.write_back([_update("SO-00003", "1Z999AA10123456806")])
    second = load_workbook(adapter.path())["Orders"]

    assert [c.value for c in first[1]][-2:] == ["tracking_number", "shipped_at"]
    assert first.max_column == 11
    assert (first["J2"].value, first["J3"].value) == (TRACKING, "1Z999AA10123456795")
    assert second["A5"].value == "SO-00003"
    assert second["J5"].value == "1Z999AA10123456806"


def test_macro_workbooks_keep_their_macros(excel_source: MakeExcel) -> None:
    parts = _members(xlsx_bytes({"Orders": order_rows(2)}))
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    )
    parts["xl/vbaProject.bin"] = b"\xd0\xcf\x11\xe0 pretend VBA project"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, body in parts.items():
            archive.writestr(name, body)
    adapter = ExcelAdapter(excel_source(out.getvalue(), name="orders.xlsm"))

    adapter.write_back([_update("2")])

    assert _members(adapter.path().read_bytes())["xl/vbaProject.bin"] == parts["xl/vbaProject.bin"]
    assert [row.values.get("tracking_number") for row in adapter.iter_rows()] == ["", TRACKING]


def test_a_formula_like_value_is_written_as_text(excel_source: MakeExcel) -> None:
    adapter = ExcelAdapter(excel_source(order_rows(1)))

    adapter.write_back([_update("1", "=cmd|'/c calc'!A1")])

    cell = load_workbook(adapter.path())["Orders"]["J2"]
    assert cell.data_type == "s"
    assert cell.value == "'=cmd|'/c calc'!A1"


def test_row_numbers_count_blank_rows(excel_source: MakeExcel) -> None:
    adapter = ExcelAdapter(excel_source([*order_rows(1), [], order_row(3)]))

    rows = list(adapter.iter_rows())
    adapter.write_back([_update("3")])

    assert [row.key for row in rows] == ["1", "3"]
    sheet = load_workbook(adapter.path())["Orders"]
    assert sheet["J4"].value == TRACKING
    assert sheet["J3"].value is None


def test_missing_rows_refuse_the_whole_write_back(excel_source: MakeExcel) -> None:
    adapter = ExcelAdapter(excel_source(order_rows(2), key_column="order_id"))
    original = adapter.path().read_bytes()

    with pytest.raises(SourceError) as raised:
        adapter.write_back([_update("SO-00001"), _update("SO-404")])

    assert raised.value.code == "writeback_rows_missing"
    assert adapter.path().read_bytes() == original


def test_a_formula_in_the_tracking_column_is_not_overwritten(excel_source: MakeExcel) -> None:
    def formula(workbook: Workbook) -> None:
        workbook["Orders"]["J1"] = "tracking_number"
        workbook["Orders"]["J2"] = '=""'

    adapter = ExcelAdapter(excel_source(xlsx_bytes({"Orders": order_rows(1)}, build=formula)))
    original = adapter.path().read_bytes()

    with pytest.raises(SourceError) as raised:
        adapter.write_back([_update("1")])

    assert "holds a formula" in raised.value.message
    assert adapter.path().read_bytes() == original


def test_a_sheet_without_column_names_says_which_row_holds_data(excel_source: MakeExcel) -> None:
    data = xlsx_bytes({"Orders": [[], [], *order_rows(2)[1:]]})
    with pytest.raises(SourceError) as refused:
        ExcelAdapter(excel_source(data)).headers()
    assert refused.value.code == "no_header"
    assert (
        'The header row of "orders.xlsx" (row 3) holds data, not column names'
        in refused.value.message
    )


def test_values_right_of_the_header_are_named_in_a_notice(excel_source: MakeExcel) -> None:
    rows: list[list[object]] = [list(row) for row in order_rows(5)]
    for number in (1, 2, 3, 5):  # column K: a note a person typed beside the orders
        rows[number] += ["", "leave at the back door"]
    adapter = ExcelAdapter(excel_source(xlsx_bytes({"Orders": rows})))

    read = list(adapter.iter_rows())

    assert len(read) == 5
    assert "leave at the back door" not in str([row.values for row in read])
    assert adapter.notices() == [
        'Column K of "orders.xlsx" holds values (rows 1, 2, 3 and 1 more) but has no name '
        "in the header row, so ShipOps does not read it; name it there if it holds shipping "
        "data."
    ]


def test_a_sheet_with_every_value_under_a_name_has_no_notice(excel_source: MakeExcel) -> None:
    rows: list[list[object]] = [[*ORDER_HEADERS, "", "notes"]]
    rows += [[*order_row(1), "", "fragile"]]
    adapter = ExcelAdapter(excel_source(xlsx_bytes({"Orders": rows})))
    assert [row.values["notes"] for row in adapter.iter_rows()] == ["fragile"]
    assert adapter.notices() == []


def test_many_unnamed_columns_make_one_sentence_after_the_first_three(
    excel_source: MakeExcel,
) -> None:
    rows: list[list[object]] = [list(row) for row in order_rows(1)]
    rows[1] += ["", *[f"side {n}" for n in range(50)]]  # a side calculation, 50 columns wide
    adapter = ExcelAdapter(excel_source(xlsx_bytes({"Orders": rows})))
    list(adapter.iter_rows())

    notices = adapter.notices()

    assert [notice.split(" of ")[0] for notice in notices[:3]] == [
        "Column K",
        "Column L",
        "Column M",
    ]
    assert (
        notices[3]
        == '47 more columns of "orders.xlsx" (Column N to Column BH) hold values under no name too.'
    )
    assert len(notices) == 4


def test_a_column_past_the_last_excel_column_is_named_by_its_number() -> None:
    assert _column_letter(16_383) == "Column XFD"
    assert _column_letter(20_000) == "Column 20001"  # a damaged sheet's cells ran on
