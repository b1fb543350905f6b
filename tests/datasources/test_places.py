"""Which data sources read the same rows: the one-job-per-order rule looks at all of them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from datasources.places import same_place_source_ids
from tests.factories import DataSourceFactory

pytestmark = pytest.mark.django_db


def test_one_workbook_is_one_place_unless_two_sheets_are_named(
    write_source: Callable[[str, bytes], Path],
) -> None:
    path = write_source("w.xlsx", b"PK")
    (path.parent / "same.xlsx").hardlink_to(path)
    first_visible = DataSourceFactory.create(kind="excel", file_path="w.xlsx", sheet_name="")
    orders = DataSourceFactory.create(kind="excel", file_path="w.xlsx", sheet_name="Orders")
    orders_again = DataSourceFactory.create(
        kind="excel", file_path="same.xlsx", sheet_name="ORDERS"
    )
    returns = DataSourceFactory.create(kind="excel", file_path="w.xlsx", sheet_name="Returns")
    DataSourceFactory.create(kind="excel", file_path="other.xlsx", sheet_name="")

    everything = sorted([first_visible.pk, orders.pk, orders_again.pk, returns.pk])
    assert same_place_source_ids(first_visible) == everything
    assert same_place_source_ids(orders) == sorted([first_visible.pk, orders.pk, orders_again.pk])
    assert same_place_source_ids(returns) == sorted([first_visible.pk, returns.pk])


def test_one_table_is_one_place_whatever_the_case_of_its_name() -> None:
    orders = DataSourceFactory.create(kind="database", table_name="orders", file_path="")
    shouted = DataSourceFactory.create(kind="database", table_name=" ORDERS ", file_path="")
    DataSourceFactory.create(kind="database", table_name="returns", file_path="")
    DataSourceFactory.create(
        kind="database", table_name="orders", file_path="", db_alias="warehouse"
    )

    assert same_place_source_ids(orders) == sorted([orders.pk, shouted.pk])
