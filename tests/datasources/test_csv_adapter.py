"""CSV files: encodings, delimiters, quoting read faithfully; write-back changes only its cells."""

from __future__ import annotations

import datetime as dt
import os
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from datasources.adapters import WriteBack
from datasources.adapters.csv_file import CsvAdapter
from datasources.atomic import file_signature
from datasources.errors import SourceError
from datasources.mapping import read_shipments
from datasources.models import DataSource
from tests.fixtures.sources import csv_bytes, order_row, order_rows

SHIPPED_AT = dt.datetime(2024, 5, 1, 14, 30, tzinfo=dt.UTC)
STAMP = "2024-05-01T14:30:00+00:00"
TRACKING = "1Z999AA10123456784"
MakeCsv = Callable[..., DataSource]


def _update(key: str, tracking: str = TRACKING) -> WriteBack:
    return WriteBack(key, tracking, SHIPPED_AT)


@pytest.mark.parametrize("bom", [False, True], ids=["no BOM", "BOM"])
def test_reads_utf8_with_or_without_bom(csv_source: MakeCsv, bom: bool) -> None:
    rows = [*order_rows(1), ["SO-2", "Zoë Straße", "1 Rue", "Québec", "QC", "G1R 4P5", "CA", "1"]]
    adapter = CsvAdapter(csv_source(csv_bytes(rows, bom=bom), key_column="order_id"))

    read = list(adapter.iter_rows())

    assert adapter.headers()[0] == "order_id"
    assert [row.key for row in read] == ["SO-00001", "SO-2"]
    assert read[1].values["recipient"] == "Zoë Straße"
    assert adapter.notices() == []


def test_cp1252_is_read_reported_and_kept_on_write_back(csv_source: MakeCsv) -> None:
    data = csv_bytes(
        [*order_rows(0), ["SO-1", "Zoë Brontë", "1 Main St", "Atlanta", "GA", "30303"]],
        encoding="cp1252",
    )
    source = csv_source(data, key_column="order_id")
    adapter = CsvAdapter(source)

    [row] = adapter.iter_rows()
    adapter.write_back([_update("SO-1")])

    assert row.values["recipient"] == "Zoë Brontë"
    assert "Windows-1252" in adapter.notices()[0]
    after = adapter.path().read_bytes()
    assert b"Zo\xeb Bront\xeb" in after
    assert after.endswith(f",,,,{TRACKING},{STAMP}\r\n".encode())


@pytest.mark.parametrize("delimiter", [";", "\t", "|"], ids=["semicolon", "tab", "bar"])
def test_sniffs_the_delimiter_and_keeps_it(csv_source: MakeCsv, delimiter: str) -> None:
    rows = [*order_rows(2)]
    rows[1][2] = "1 Main St, Suite 4"  # a comma inside a value must not fool the sniffer
    source = csv_source(csv_bytes(rows, delimiter=delimiter), key_column="order_id")
    adapter = CsvAdapter(source)

    read = list(adapter.iter_rows())
    adapter.write_back([_update("SO-00002")])

    assert read[0].values["address1"] == "1 Main St, Suite 4"
    last_line = adapter.path().read_text().splitlines()[-1]
    assert last_line.endswith(f"{delimiter}{TRACKING}{delimiter}{STAMP}")


def test_a_semicolon_file_with_decimal_commas_stays_readable_when_half_written_back(
    csv_source: MakeCsv,
) -> None:
    # A European export: semicolons between cells, a decimal comma in every order's value.
    rows = [[*order_rows(0)[0], "value"]]
    rows += [[*order_row(n), f"{n},50"] for n in range(1, 20)]
    adapter = CsvAdapter(csv_source(csv_bytes(rows, delimiter=";"), key_column="order_id"))
    keys = [row.key for row in adapter.iter_rows()]

    # Ten rows shipped and were written back: two more cells on those lines only.
    adapter.write_back([_update(key) for key in keys[:10]])

    assert adapter.format().delimiter == ";"
    assert [row.key for row in adapter.iter_rows()] == keys


def test_quoted_newlines_stay_in_their_value(csv_source: MakeCsv) -> None:
    data = b'order_id,recipient,address1,city\r\nA-1,Jane,"1 Main St\nBuilding B",Atlanta\r\n'
    adapter = CsvAdapter(csv_source(data, key_column="order_id"))

    [row] = adapter.iter_rows()
    adapter.write_back([_update("A-1")])

    assert row.values["address1"] == "1 Main St\nBuilding B"
    assert adapter.path().read_bytes() == (
        b"order_id,recipient,address1,city,tracking_number,shipped_at\r\n"
        b'A-1,Jane,"1 Main St\nBuilding B",Atlanta,' + f"{TRACKING},{STAMP}\r\n".encode()
    )


def test_write_back_changes_only_the_write_back_cells(csv_source: MakeCsv) -> None:
    original = (
        "\ufeffOrder ID,Recipient,Address1,City,State,Zip,Weight,Tracking Number,Shipped At\r\n"
        'A-1,"Doe, Jane","1 Main St",Atlanta,GA,"30303", 2.5 ,,\r\n'
        'A-2,Bob,"2 ""Elm"" St",Boston,MA,02134,1,,\r\n'
        "A-3,Ann,3 Oak St,Austin,TX,73301,4,,\r\n"
    ).encode()
    source = csv_source(
        original,
        key_column="Order ID",
        tracking_column="tracking_number",
        shipped_at_column="shipped_at",
    )
    adapter = CsvAdapter(source)
    before = {row.key: row.checksum for row in adapter.iter_rows()}

    adapter.write_back([_update("A-2")])

    expected = original.replace(
        b'A-2,Bob,"2 ""Elm"" St",Boston,MA,02134,1,,\r\n',
        f'A-2,Bob,"2 ""Elm"" St",Boston,MA,02134,1,{TRACKING},{STAMP}\r\n'.encode(),
    )
    assert adapter.path().read_bytes() == expected
    assert {row.key: row.checksum for row in adapter.iter_rows()} == before


def test_adds_missing_columns_in_the_files_own_style(csv_source: MakeCsv) -> None:
    original = csv_bytes(order_rows(2), newline="\n", quote_all=True).rstrip(b"\n")
    adapter = CsvAdapter(csv_source(original, key_column="order_id"))

    adapter.write_back([_update("SO-00002")])

    header, first, second = adapter.path().read_bytes().split(b"\n")
    assert header.endswith(b',"tracking_number","shipped_at"')
    assert first == original.split(b"\n")[1], "rows not written back stay as they were"
    assert second == original.split(b"\n")[2] + f',"{TRACKING}","{STAMP}"'.encode()


def test_round_trip_reports_the_tracking_number_already_held(csv_source: MakeCsv) -> None:
    source = csv_source(order_rows(3), key_column="order_id")
    adapter = CsvAdapter(source)
    checksums = {row.key: row.checksum for row in adapter.iter_rows()}

    adapter.write_back([_update("SO-00001"), _update("SO-00003", "1Z999AA10123456795")])
    mapped = {row.row.key: row for row in read_shipments(source)}

    assert mapped["SO-00001"].already_shipped_tracking == TRACKING
    assert mapped["SO-00002"].already_shipped_tracking == ""
    assert mapped["SO-00003"].row.values["shipped_at"] == STAMP
    assert {key: row.row.checksum for key, row in mapped.items()} == checksums
    assert adapter.current_checksums(checksums.keys()) == checksums


def test_row_numbers_are_keys_when_no_key_column_is_set(csv_source: MakeCsv) -> None:
    data = csv_bytes([*order_rows(1), [], order_row(3)])
    adapter = CsvAdapter(csv_source(data))

    rows = list(adapter.iter_rows())
    adapter.write_back([_update("3")])

    assert [(row.number, row.key) for row in rows] == [(1, "1"), (3, "3")]
    assert adapter.path().read_bytes().splitlines()[2:] == [
        b"",
        ",".join([*order_row(3), TRACKING, STAMP]).encode(),
    ]


def test_title_rows_above_the_header_are_kept(csv_source: MakeCsv) -> None:
    original = b"Orders export,,\r\nMay 2024,,\r\n\r\n" + csv_bytes(order_rows(2))
    adapter = CsvAdapter(csv_source(original, key_column="order_id"))

    rows = list(adapter.iter_rows())
    adapter.write_back([_update("SO-00001")])

    assert [row.key for row in rows] == ["SO-00001", "SO-00002"]
    assert adapter.path().read_bytes().startswith(b"Orders export,,\r\nMay 2024,,\r\n\r\n")


def test_a_formula_like_value_is_written_as_text(csv_source: MakeCsv) -> None:
    adapter = CsvAdapter(csv_source(order_rows(1), key_column="order_id"))

    adapter.write_back([_update("SO-00001", '=HYPERLINK("http://evil.example","x")')])

    [row] = adapter.iter_rows()
    assert row.values["tracking_number"] == '\'=HYPERLINK("http://evil.example","x")'
    assert b'"\'=HYPERLINK(""http://evil.example"",""x"")"' in adapter.path().read_bytes()


def test_missing_rows_refuse_the_whole_write_back(csv_source: MakeCsv) -> None:
    adapter = CsvAdapter(csv_source(order_rows(2), key_column="order_id"))
    original = adapter.path().read_bytes()

    with pytest.raises(SourceError) as raised:
        adapter.write_back([_update("SO-00001"), _update("SO-404")])

    assert raised.value.code == "writeback_rows_missing"
    assert raised.value.details["missing_keys"] == ["SO-404"]
    assert adapter.path().read_bytes() == original


def test_a_ragged_row_cannot_get_new_columns(csv_source: MakeCsv) -> None:
    data = csv_bytes([*order_rows(1), [*order_row(2), "stray"]])
    adapter = CsvAdapter(csv_source(data))

    with pytest.raises(SourceError) as raised:
        adapter.write_back([_update("2")])

    assert raised.value.code == "writeback_ragged_row"
    assert adapter.path().read_bytes() == data


def _edit_unnoticed(path: Path, old: bytes, new: bytes) -> None:
    """Change the file in place keeping its size, inode and mtime: invisible to the cache."""
    signature = file_signature(path)
    with path.open("r+b") as handle:
        data = handle.read().replace(old, new)
        handle.seek(0)
        handle.write(data)
    os.utime(path, ns=(path.stat().st_atime_ns, signature.mtime_ns))
    assert file_signature(path) == signature


def test_checksums_come_from_the_cache_until_the_file_changes(csv_source: MakeCsv) -> None:
    adapter = CsvAdapter(csv_source(order_rows(2), key_column="order_id"))
    path = adapter.path()
    first = adapter.current_checksums(["SO-00001"])

    _edit_unnoticed(path, b"Customer 1", b"Customer X")
    assert adapter.current_checksums(["SO-00001"]) == first, "served from the cache"

    path.write_bytes(path.read_bytes().replace(b"Customer X", b"Customer XY"))
    assert adapter.current_checksums(["SO-00001", "SO-404"]) != first
    assert list(adapter.current_checksums(["SO-00001", "SO-404"])) == ["SO-00001"]


def test_write_back_keeps_the_checksum_cache_valid(csv_source: MakeCsv) -> None:
    adapter = CsvAdapter(csv_source(order_rows(2), key_column="order_id"))
    checksums = adapter.current_checksums(["SO-00001", "SO-00002"])

    adapter.write_back([_update("SO-00001")])
    _edit_unnoticed(adapter.path(), b"Customer 2", b"Customer Y")

    assert adapter.current_checksums(["SO-00001", "SO-00002"]) == checksums


def test_reading_streams_a_large_file(csv_source: MakeCsv) -> None:
    adapter = CsvAdapter(csv_source(order_rows(10_000), key_column="order_id"))

    tracemalloc.start()
    count = sum(1 for _ in adapter.iter_rows())
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    assert count == 10_000
    # Only the key -> checksum cache grows with the file (about 200 bytes a row);
    # holding the rows themselves would take about 1,200 bytes a row.
    assert peak < 10_000 * 400


def test_a_comma_file_with_its_own_headers_and_a_semicolon_in_a_cell_stays_a_comma_file(
    csv_source: MakeCsv,
) -> None:
    # Headers ShipOps does not know (a column mapping names them); "E-Mail" after a ";" would.
    headers = ["Bestellnr", "Empfänger", "Anschrift", "Ort", "PLZ", "Gewicht kg", "Hinweis"]
    rows = [headers]
    rows += [[f"100{n}", f"Kunde {n}", f"Hauptstr. {n}", "Berlin", "10115", "2.5", "SMS;E-Mail"]
             for n in range(1, 4)]  # fmt: skip
    adapter = CsvAdapter(csv_source(csv_bytes(rows)))

    assert adapter.format().delimiter == ","
    assert adapter.headers() == headers


@pytest.mark.parametrize(
    ("data", "where"),
    [
        (csv_bytes(order_rows(3)[1:]), 'The first row of "orders.csv" holds data'),
        (
            b"\r\n,,\r\n" + csv_bytes(order_rows(3)[1:]),
            'The header row of "orders.csv" (line 3) holds data',
        ),
    ],
    ids=["first line", "after blank lines"],
)
def test_a_file_without_column_names_says_which_row_holds_data(
    csv_source: MakeCsv, data: bytes, where: str
) -> None:
    with pytest.raises(SourceError) as refused:
        CsvAdapter(csv_source(data, name="orders.csv")).headers()
    assert refused.value.code == "no_header"
    assert refused.value.message.startswith(where)


def test_values_under_a_blank_column_name_are_named_in_a_notice(csv_source: MakeCsv) -> None:
    rows = [[*row[:3], "", *row[3:]] for row in order_rows(2)]
    rows[2][3] = "Suite 200"  # the header of column 4 was never filled in
    adapter = CsvAdapter(csv_source(csv_bytes(rows), key_column="order_id"))

    assert [row.key for row in adapter.iter_rows()] == ["SO-00001", "SO-00002"]
    assert adapter.notices() == [
        'Column 4 of "orders.csv" holds values (row 2) but has no name in the header row, '
        "so ShipOps does not read it; name it there if it holds shipping data."
    ]
