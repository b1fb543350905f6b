"""The bad-input corpus: each case builds a broken CSV or workbook in code and names the outcome.

A case expects either a SourceError ``code`` (the whole file is refused) or a
``row_error`` (a per-row message); the test also checks the file is left
byte-identical.
"""

from __future__ import annotations

import codecs
import datetime as dt
import io
import random
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from openpyxl import Workbook

from datasources.sniff import OLE2_MAGIC
from tests.fixtures.sheet_xml import edit_sheet_xml, sheet_rows
from tests.fixtures.sources import ORDER_HEADERS, csv_bytes, order_row, order_rows, xlsx_bytes


@dataclass(frozen=True)
class Case:
    """One bad input and what ShipOps must say about it."""

    id: str
    build: Callable[[], bytes]
    code: str = ""
    row_error: str = ""
    kind: str = "csv"
    name: str = ""
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def file_name(self) -> str:
        return self.name or ("orders.xlsx" if self.kind == "excel" else "orders.csv")


def _rows_with(column: str, value: object, *, count: int = 2) -> list[list[object]]:
    rows: list[list[object]] = [list(row) for row in order_rows(count)]
    rows[1][ORDER_HEADERS.index(column)] = value
    return rows


def _garbage(size: int = 4096) -> bytes:
    return random.Random(7).randbytes(size)


def _xlsx(rows: Sequence[Sequence[object]], **kwargs: Any) -> bytes:
    return xlsx_bytes({"Orders": rows}, **kwargs)


def _corrupt_sheet() -> bytes:
    data = bytearray(_xlsx(order_rows(3)))
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("xl/worksheets/sheet1.xml")
    offset = info.header_offset + 30 + len(info.filename) + len(info.extra) + 20
    data[offset] ^= 0xFF
    data[offset + 1] ^= 0xFF
    return bytes(data)


def _word_document() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<Types><Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        )
        archive.writestr("word/document.xml", "<document/>")
    return out.getvalue()


def _encrypted() -> bytes:
    # How an encrypted .xlsx looks: an OLE2 container with an EncryptionInfo stream.
    return OLE2_MAGIC + bytes(504) + "EncryptionInfo".encode("utf-16-le") + bytes(1024)


def _merged_city(workbook: Workbook) -> None:
    workbook["Orders"].merge_cells("D2:D3")


def _uncached_weight(workbook: Workbook) -> None:
    workbook["Orders"]["H2"] = "=1+1.5"


def _date_weight() -> bytes:
    return _xlsx(_rows_with("weight", dt.datetime(2024, 5, 1)))


def _error_as_text(workbook: Workbook) -> None:
    workbook["Orders"]["D2"].data_type = "s"  # text that reads "#N/A", not Excel's error value


def _rows_swapped() -> bytes:
    def swap(xml: str) -> str:
        rows = sheet_rows(xml)
        return xml.replace(rows[2] + rows[3], rows[3] + rows[2])

    return edit_sheet_xml(_xlsx(order_rows(3)), swap)


def _row_repeated() -> bytes:
    return edit_sheet_xml(_xlsx(order_rows(3)), lambda xml: xml.replace('<row r="3"', '<row r="2"'))


CSV_CASES = [
    Case("empty file", lambda: b"", code="empty"),
    Case("only blank lines", lambda: b"\r\n  \r\n\r\n", code="empty"),
    Case("duplicate headers", lambda: b"zip,city,zip\r\n1,2,3\r\n", code="duplicate_headers"),
    Case(
        "duplicate headers in other case",
        lambda: b"Zip,City,ZIP\r\n1,2,3\r\n",
        code="duplicate_headers",
    ),
    Case(
        "required column missing",
        lambda: csv_bytes([row[:3] + row[4:] for row in order_rows(2)]),
        code="missing_columns",
    ),
    Case("no header row", lambda: csv_bytes(order_rows(3)[1:]), code="no_header"),
    Case(
        "ragged row (unquoted comma)",
        lambda: csv_bytes([*order_rows(1), [*order_row(2), "extra"]]),
        row_error="the header names 9 columns",
    ),
    Case(
        "short row",
        lambda: csv_bytes([*order_rows(1), order_row(2)[:3]]),
        row_error='Column "city" is empty; a city is required.',
    ),
    Case(
        "quote never closed",
        lambda: csv_bytes(order_rows(2)) + b'SO-9,"Unclosed,1 Main St\r\n',
        code="csv_malformed",
    ),
    Case(
        "huge field",
        lambda: csv_bytes(_rows_with("recipient", "x" * 40_000)),
        row_error="holds 40,000 characters",
    ),
    Case("binary garbage named .csv", _garbage, code="not_text"),
    Case("control characters", lambda: b"a,b\r\n" + b"\x01\x02\x03\x04" * 50, code="not_text"),
    Case("workbook named .csv", lambda: _xlsx(order_rows(2)), code="wrong_kind"),
    Case(
        "UTF-16 (Excel Unicode Text)",
        lambda: codecs.BOM_UTF16_LE + "recipient\tcity\r\n".encode("utf-16-le"),
        code="encoding_unsupported",
    ),
    Case(
        "neither UTF-8 nor cp1252",
        lambda: csv_bytes(order_rows(1)) + b"SO-2,\x81\x8d\x8f,1 Main St\r\n",
        code="encoding_unreadable",
    ),
    Case(
        "UTF-8 BOM with Latin-1 bytes",
        lambda: b"\xef\xbb\xbf" + csv_bytes(_rows_with("recipient", "Zoë"), encoding="cp1252"),
        code="encoding_mixed",
    ),
    Case(
        "UTF-8 with a line pasted in Windows-1252",
        lambda: (
            csv_bytes(_rows_with("recipient", "José Núñez"))
            + "SO-9,Zoë,9 Main St\r\n".encode("cp1252")
        ),
        code="encoding_mixed",
    ),
    Case(
        "text where a weight goes",
        lambda: csv_bytes(_rows_with("weight", "heavy")),
        row_error='Column "weight": "heavy" is not a weight',
    ),
    Case(
        "spreadsheet error exported to CSV",
        lambda: csv_bytes(_rows_with("address1", "#N/A")),
        row_error='Column "address1" holds the spreadsheet error #N/A.',
    ),
    Case(
        "date where a weight goes",
        lambda: csv_bytes(_rows_with("weight", "2024-05-01")),
        row_error='Column "weight": "2024-05-01" is not a weight',
    ),
    Case(
        "letters in a ZIP code",
        lambda: csv_bytes(_rows_with("zip", "ABCDE")),
        row_error='Column "zip": "ABCDE" is not a US ZIP code (5 digits or ZIP+4).',
    ),
    Case(
        "blank key",
        lambda: csv_bytes(_rows_with("order_id", "")),
        code="key_blank",
        options={"key_column": "order_id"},
    ),
    Case(
        "duplicate key",
        lambda: csv_bytes([*order_rows(2), order_row(1)]),
        code="duplicate_key",
        options={"key_column": "order_id"},
    ),
    Case(
        "key column missing",
        lambda: csv_bytes(order_rows(2)),
        code="key_column_missing",
        options={"key_column": "Order Number"},
    ),
    Case(
        "mapping names a missing column",
        lambda: csv_bytes(order_rows(2)),
        code="mapping_column_missing",
        options={"column_mapping": {"Town": "city"}},
    ),
    Case(
        "two columns for one field",
        lambda: csv_bytes([[*ORDER_HEADERS, "postal_code"], [*order_row(1), "30303"]]),
        code="mapping_ambiguous",
    ),
]

excel = partial(Case, kind="excel")

EXCEL_CASES = [
    excel("old .xls workbook", lambda: OLE2_MAGIC + bytes(2048), "xls_unsupported", name="o.xls"),
    excel("password-protected", _encrypted, code="workbook_encrypted"),
    excel("OLE2 file named .xlsx", lambda: OLE2_MAGIC + bytes(2048), "xls_unsupported"),
    excel("truncated workbook", lambda: _xlsx(order_rows(3))[:1500], code="workbook_corrupt"),
    excel("damaged sheet data", _corrupt_sheet, code="workbook_corrupt"),
    excel("Word document named .xlsx", _word_document, code="not_excel"),
    excel("CSV named .xlsx", lambda: csv_bytes(order_rows(2)), code="not_excel"),
    excel("binary garbage named .xlsx", _garbage, code="not_excel"),
    excel("empty .xlsx file", lambda: b"", code="empty"),
    excel("empty sheet", lambda: xlsx_bytes({"Orders": []}), code="empty"),
    excel(
        "sheet not found",
        lambda: _xlsx(order_rows(2)),
        code="sheet_missing",
        options={"sheet_name": "Shipments"},
    ),
    excel(
        "duplicate headers in a sheet",
        lambda: _xlsx([["zip", "City", "ZIP"], [1, 2, 3]]),
        code="duplicate_headers",
    ),
    excel("numbers in the header", lambda: _xlsx(order_rows(2)[1:]), "no_header"),
    excel(
        "merged cells",
        lambda: _xlsx(order_rows(2), build=_merged_city),
        row_error='Column "city" is empty; a city is required.',
    ),
    excel(
        "formula without a saved result",
        lambda: _xlsx(order_rows(2), build=_uncached_weight),
        row_error='Column "weight" holds a formula with no saved result: open and save',
    ),
    excel(
        "orders only on a hidden sheet",
        lambda: xlsx_bytes({"Orders": order_rows(2), "Notes": [["Notes"]]}, hidden={"Orders"}),
        code="missing_columns",
    ),
    excel(
        "error value where a weight goes",
        lambda: _xlsx(_rows_with("weight", "#DIV/0!")),
        row_error='Column "weight" holds the spreadsheet error #DIV/0!.',
    ),
    excel("rows out of order in the sheet's XML", _rows_swapped, code="workbook_corrupt"),
    excel("a row repeated in the sheet's XML", _row_repeated, code="workbook_corrupt"),
    excel(
        "error value saved as text in a workbook",
        lambda: _xlsx(_rows_with("city", "#N/A"), build=_error_as_text),
        row_error='Column "city" holds the spreadsheet error #N/A.',
    ),
    excel(
        "date where a weight goes (Excel)",
        _date_weight,
        row_error='Column "weight": "2024-05-01" is not a weight',
    ),
    excel(
        "boolean where a ZIP goes",
        lambda: _xlsx(_rows_with("zip", True)),
        row_error='Column "zip": "TRUE" is not a US ZIP code',
    ),
]

CASES = CSV_CASES + EXCEL_CASES
