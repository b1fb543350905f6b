"""CSV files whose quoting or delimiter could mislead the reader: refused, or read right."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from datasources.adapters import WriteBack
from datasources.adapters.csv_file import CsvAdapter
from datasources.errors import SourceError
from datasources.models import DataSource

MakeCsv = Callable[..., DataSource]
HEADER = b"order_id,recipient,address1,city,state,zip,weight\r\n"


def order_line(number: int, recipient: str = "") -> bytes:
    name = recipient or f"Customer {number}"
    return f"SO-{number},{name},{number} Main St,Atlanta,GA,30303,2\r\n".encode()


def orders(numbers: range) -> bytes:
    return b"".join(order_line(number) for number in numbers)


STRAY_QUOTES = {
    # A quote opened by mistake in row 2, closed by row 7's quoted name: rows 3 to 6 and
    # the start of row 7 would be one recipient's name.
    "opened in a name": (
        HEADER
        + order_line(1)
        + b'SO-2,"Bob,2 Main St,Atlanta,GA,30303,2\r\n'
        + orders(range(3, 7))
        + b'SO-7,"Ann",7 Main St,Atlanta,GA,30303,2\r\n'
        + orders(range(8, 11))
    ),
    # Opened in row 2's last cell and closed in row 5's: rows 3 and 4 would be a weight.
    "opened in the last cell": (
        HEADER
        + order_line(1)
        + b'SO-2,Bob,2 Main St,Atlanta,GA,30303,"2\r\n'
        + orders(range(3, 5))
        + b'SO-5,Eve,5 Main St,Atlanta,GA,30303,2"\r\n'
        + orders(range(6, 11))
    ),
}


@pytest.mark.parametrize("data", STRAY_QUOTES.values(), ids=STRAY_QUOTES.keys())
def test_a_stray_quote_that_would_swallow_rows_refuses_the_file(
    csv_source: MakeCsv, data: bytes
) -> None:
    adapter = CsvAdapter(csv_source(data, key_column="order_id"))

    with pytest.raises(SourceError) as refused:
        list(adapter.iter_rows())

    assert refused.value.code == "csv_malformed"
    assert refused.value.message == (
        '"orders.csv" cannot be read at line 4: it lies inside a quoted value that starts on '
        "line 3, yet it holds a whole row (SO-3,Customer 3,3 Main St,Atlanta,GA,30303,2); "
        "a quote is missing or stray on line 3."
    )
    with pytest.raises(SourceError, match="cannot be read at line 4"):
        adapter.write_back([WriteBack("SO-1", "1Z999AA10123456784", dt.datetime.now(dt.UTC))])
    assert adapter.path().read_bytes() == data


def test_line_breaks_inside_a_quoted_value_are_kept_when_the_lines_are_not_rows(
    csv_source: MakeCsv,
) -> None:
    data = (
        HEADER
        + b'SO-1,"Jane Doe","1 Main St\r\nBuilding B, Floor 2",Atlanta,GA,30303,2\r\n'
        + order_line(2)
    )
    rows = list(CsvAdapter(csv_source(data, key_column="order_id")).iter_rows())

    assert [row.key for row in rows] == ["SO-1", "SO-2"]
    assert rows[0].values["address1"] == "1 Main St\r\nBuilding B, Floor 2"


def test_a_semicolon_file_under_its_own_column_names_stays_one_after_a_write_back(
    csv_source: MakeCsv,
) -> None:
    # A German export: names only the data source's column mapping knows, and a decimal
    # comma in every row. Once a row holds two more cells, splitting at commas looks more
    # consistent than at semicolons; the mapping's names say which is right.
    lines = ["Bestellung;Kunde;Strasse;Ort;Land;Bundesland;PLZ;Gewicht"]
    lines += [f"B-{n};Kunde {n};{n} Main St;Atlanta;US;GA;30303;2,5" for n in range(1, 11)]
    mapping = {
        "Bestellung": "reference",
        "Kunde": "recipient",
        "Strasse": "address1",
        "Ort": "city",
        "Land": "country",
        "Bundesland": "state",
        "PLZ": "postal_code",
        "Gewicht": "weight",
    }
    source = csv_source(
        "\r\n".join(lines).encode() + b"\r\n", key_column="Bestellung", column_mapping=mapping
    )
    adapter = CsvAdapter(source)

    adapter.write_back([WriteBack("B-1", "1Z999AA10123456784", dt.datetime.now(dt.UTC))])

    assert adapter.format().delimiter == ";"
    assert [row.key for row in adapter.iter_rows()] == [f"B-{n}" for n in range(1, 11)]
    adapter.write_back([WriteBack("B-2", "1Z999AA10123456791", dt.datetime.now(dt.UTC))])
    assert adapter.path().read_text().splitlines()[2].startswith("B-2;Kunde 2;")


def test_a_utf8_file_with_a_line_in_windows_1252_is_refused_naming_the_line(
    csv_source: MakeCsv,
) -> None:
    data = (
        HEADER
        + order_line(1, "José Núñez")
        + "SO-2,Zoë Brontë,2 Main St,Atlanta,GA,30303,2\r\n".encode("cp1252")
    )
    adapter = CsvAdapter(csv_source(data, key_column="order_id"))

    with pytest.raises(SourceError) as refused:
        list(adapter.iter_rows())

    assert (refused.value.code, refused.value.details["line"]) == ("encoding_mixed", 3)
    assert refused.value.message.startswith(
        '"orders.csv" mixes encodings: it holds UTF-8 text (line 2), yet line 3 is not UTF-8'
    )


def test_a_windows_1252_file_is_still_read_as_one(csv_source: MakeCsv) -> None:
    # Capitals before curly quotes and dashes: byte pairs that could be UTF-8, but are not
    # characters names hold.
    data = (
        HEADER
        + order_line(1, "Zoë Brontë")
        + order_line(2, "Ægir Ødegård")
        + order_line(3, "“JOSÉ” GARCÍA")
        + order_line(4, "CAFÉ\u2013BAR")
    ).decode()
    adapter = CsvAdapter(csv_source(data.encode("cp1252"), key_column="order_id"))

    assert [row.values["recipient"] for row in adapter.iter_rows()] == [
        "Zoë Brontë",
        "Ægir Ødegård",
        "“JOSÉ” GARCÍA",
        "CAFÉ\u2013BAR",
    ]


def test_a_stray_quote_is_caught_in_a_file_shipops_wrote_tracking_numbers_into(
    csv_source: MakeCsv,
) -> None:
    # The header has the two write-back columns; the lines that have not shipped do not.
    header = b"order_id,recipient,address1,city,state,zip,weight,tracking_number,shipped_at\r\n"
    shipped = b"SO-1,Customer 1,1 Main St,Atlanta,GA,30303,2,1Z999AA10123456784,2024-05-01\r\n"
    data = (
        header
        + shipped
        + b'SO-2,"Bob,2 Main St,Atlanta,GA,30303,2\r\n'
        + orders(range(3, 6))
        + b'SO-6,"Ann",6 Main St,Atlanta,GA,30303,2\r\n'
    )
    adapter = CsvAdapter(csv_source(data, key_column="order_id"))

    with pytest.raises(SourceError, match="cannot be read at line 4: it lies inside a quoted"):
        list(adapter.iter_rows())
