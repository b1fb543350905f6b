"""The registry picks one adapter per kind; code that needs only the contract can use a fake."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from datasources.adapters import WriteBack, get_adapter
from datasources.adapters.csv_file import CsvAdapter
from datasources.adapters.db_table import TableAdapter
from datasources.adapters.excel_file import ExcelAdapter
from datasources.errors import SourceError
from datasources.mapping import read_shipments
from datasources.models import DataSource, SourceKind
from tests.factories import DataSourceFactory
from tests.fixtures.sources import FakeSourceAdapter, order_rows


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
