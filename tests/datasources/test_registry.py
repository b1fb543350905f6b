"""The registry picks one adapter per kind; code that needs only the contract can use a fake."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from datasources.adapters import WriteBack, get_adapter
from datasources.adapters.csv_file import CsvAdapter
from datasources.adapters.db_table import TableAdapter
from datasources.adapters.excel_file import ExcelAdapter
from datasources.adapters.file_base import FileAdapter
from datasources.errors import RowsNotWritten, SourceError
from datasources.mapping import read_shipments
from datasources.models import DataSource, SourceKind
from tests.factories import DataSourceFactory
from tests.fixtures.sources import ORDER_HEADERS, FakeSourceAdapter, order_row, order_rows

SHIPPED_AT = dt.datetime(2024, 5, 1, 14, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("kind", "adapter"),
    [
        (SourceKind.CSV, CsvAdapter),
        (SourceKind.EXCEL, ExcelAdapter),
        (SourceKind.DATABASE, TableAdapter),
    ],
)
def test_each_kind_has_its_adapter(kind: str, adapter: type) -> None:
    assert type(get_adapter(DataSourceFactory.build(kind=kind))) is adapter


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(SourceError, match='has the kind "ftp"'):
        get_adapter(DataSourceFactory.build(kind="ftp", name="Remote"))


def test_a_writable_file_passes_the_write_back_check(
    csv_source: Callable[..., DataSource],
) -> None:
    get_adapter(csv_source(order_rows(1))).check_write_back()


@pytest.mark.parametrize("kind", ["csv", "excel"])
def test_a_file_locked_read_only_since_approval_is_left_as_it_is(
    csv_source: Callable[..., DataSource],
    excel_source: Callable[..., DataSource],
    kind: str,
) -> None:
    adapter = get_adapter((csv_source if kind == "csv" else excel_source)(order_rows(2)))
    assert isinstance(adapter, FileAdapter)
    [first, _] = adapter.iter_rows()
    path = adapter.path()
    before = path.read_bytes()
    path.chmod(0o444)  # its owner locks it while the batch runs

    with pytest.raises(SourceError) as refused:
        adapter.write_back([WriteBack(first.key, "1Z999AA10123456784", SHIPPED_AT)])

    assert refused.value.code == "source_read_only"
    assert refused.value.message == (
        f'"{path.name}" or its folder is read-only, so ShipOps could not write tracking numbers '
        "into it: make it writable, then try again."
    )
    assert (path.read_bytes(), path.stat().st_mode & 0o777) == (before, 0o444)


@pytest.mark.parametrize("read", ["headers", "iter_rows", "current_checksums", "notices"])
@pytest.mark.parametrize("kind", ["csv", "excel"])
def test_a_file_shipops_may_not_read_is_a_source_error_naming_it(
    csv_source: Callable[..., DataSource],
    excel_source: Callable[..., DataSource],
    unreadable: Callable[[str], None],
    kind: str,
    read: str,
) -> None:
    source = (csv_source if kind == "csv" else excel_source)(order_rows(2))
    adapter = get_adapter(source)
    unreadable(source.file_path)
    calls: dict[str, Callable[[], object]] = {
        "headers": adapter.headers,
        "iter_rows": lambda: list(adapter.iter_rows()),
        "current_checksums": lambda: adapter.current_checksums(["1"]),
        "notices": adapter.notices,
    }
    with pytest.raises(SourceError) as refused:
        calls[read]()
    assert refused.value.code == "source_unreadable"
    assert refused.value.message.startswith(
        f'"{source.file_path}" cannot be read: Permission denied.'
    )


@pytest.fixture(params=["csv", "excel"])
def make_file(
    request: pytest.FixtureRequest,
    csv_source: Callable[..., DataSource],
    excel_source: Callable[..., DataSource],
) -> Callable[..., DataSource]:
    """Each file kind in turn: writes rows to a source file of that kind, without a key."""
    return csv_source if request.param == "csv" else excel_source


def shipped_by_row_number(source: DataSource) -> tuple[FileAdapter, list[WriteBack]]:
    """Return the adapter of a file without a key column and a write-back for each row."""
    adapter = get_adapter(source)  # no key column: a row's key is its number
    assert isinstance(adapter, FileAdapter)
    shipped = [
        WriteBack(row.key, f"1Z999AA1012345678{row.key}", SHIPPED_AT, checksum=row.checksum)
        for row in adapter.iter_rows()
    ]
    return adapter, shipped


def test_a_file_keyed_by_row_number_is_never_written_into_rows_that_moved(
    make_file: Callable[..., DataSource],
) -> None:
    rows = order_rows(3)
    adapter, shipped = shipped_by_row_number(make_file(rows))
    make_file([rows[0], order_row(99), *rows[1:]])  # a new order inserted above the shipped ones
    inserted = adapter.path().read_bytes()

    with pytest.raises(SourceError) as refused:
        adapter.write_back(shipped)
    assert refused.value.code == "writeback_rows_moved"
    assert refused.value.message.startswith(
        f'"{adapter.display}" changed since these rows shipped: rows were inserted or deleted, '
        "so row(s) 1, 2, 3 no longer hold"
    )
    assert "so nothing was written" in refused.value.message
    assert adapter.path().read_bytes() == inserted  # nothing written

    make_file(rows)  # put back as it was: the same write-back lands in the right rows
    adapter.write_back(shipped)
    tracking = {row.key: adapter.existing_tracking(row.values) for row in adapter.iter_rows()}
    assert tracking == {update.key: update.tracking_number for update in shipped}


def test_an_edited_row_is_refused_alone_and_the_other_rows_are_written(
    make_file: Callable[..., DataSource],
) -> None:
    rows = order_rows(3)
    adapter, shipped = shipped_by_row_number(make_file(rows))
    rows[2][3] = "Decatur"  # someone fixed row 2's city after it shipped
    make_file(rows)

    with pytest.raises(RowsNotWritten) as refused:
        adapter.write_back(shipped)

    assert refused.value.code == "writeback_rows_moved"
    assert refused.value.keys == {"2"}
    assert "row(s) 2 no longer hold" in refused.value.message
    assert "the other rows' were" in refused.value.message
    tracking = {row.key: adapter.existing_tracking(row.values) for row in adapter.iter_rows()}
    assert tracking == {"1": "1Z999AA10123456781", "2": "", "3": "1Z999AA10123456783"}


def test_identical_lines_that_shifted_are_not_written(
    make_file: Callable[..., DataSource],
) -> None:
    same, other = order_row(1), order_row(3)  # lines 1 and 2: two identical parcels
    adapter, shipped = shipped_by_row_number(make_file([ORDER_HEADERS, same, same, other]))
    make_file([ORDER_HEADERS, same, same, same, other])  # a new identical order on top
    inserted = adapter.path().read_bytes()

    # Rows 1 and 2 still match, by chance: row 3 shows that everything moved down.
    with pytest.raises(RowsNotWritten) as refused:
        adapter.write_back(shipped)

    assert refused.value.keys == {"1", "2", "3"}
    assert "so nothing was written" in refused.value.message
    assert adapter.path().read_bytes() == inserted


def test_the_fake_adapter_serves_the_contract(fake_adapter: type[FakeSourceAdapter]) -> None:
    fake_adapter.rows = [
        {"recipient": "Jane", "address1": "1 Main St", "city": "Atlanta", "state": "GA",
         "zip": "30303", "weight": "1"},
    ]  # fmt: skip
    source = DataSourceFactory.build()
    shipped_at = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)

    [mapped] = read_shipments(source)
    get_adapter(source).write_back([WriteBack(mapped.row.key, "1Z1", shipped_at)])

    assert mapped.is_valid
    assert fake_adapter.written == [WriteBack("1", "1Z1", shipped_at)]


def test_write_back_times_must_be_aware() -> None:
    with pytest.raises(ValueError, match="aware"):
        WriteBack("1", "1Z1", dt.datetime(2024, 5, 1))
