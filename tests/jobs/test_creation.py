"""Creating a job from source data a row cannot hold as it is: never a crash, never a guess."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from django.contrib.auth.models import User

from datasources.models import DataSource, SourceKind
from jobs.models import JobRow
from jobs.services.approval import job_exclude_rows
from jobs.services.creation import job_create
from shipops.errors import DomainError
from tests.factories import DataSourceFactory
from tests.fixtures.sources import csv_bytes, order_rows
from tests.fixtures.ups_sandbox import SandboxController
from tests.jobs.conftest import read_csv, ship_all

pytestmark = pytest.mark.django_db


def test_a_key_too_long_to_store_is_a_row_error_and_that_order_never_ships(
    ups_sandbox: SandboxController,
    write_source: Callable[[str, bytes], Path],
    approver: User,
    source_root: Path,
) -> None:
    at_limit = "K" * 255  # the longest key a row stores: an order of its own
    # The second key is too long, and its first 255 characters are the first row's key.
    keys = [at_limit, at_limit + "-300", at_limit + "-301"]
    header, *orders = order_rows(3)
    rows = [[*header, "record_id"], *([*row, key] for row, key in zip(orders, keys, strict=True))]
    write_source("long.csv", csv_bytes(rows))
    source = DataSourceFactory.create(
        kind=SourceKind.CSV, file_path="long.csv", key_column="record_id"
    )

    job = job_create(source=source, actor=approver, mode="auto")

    assert (job.row_count, job.invalid_count, job.status) == (3, 2, "draft")
    by_number = {row.row_number: row for row in JobRow.objects.filter(job=job)}
    assert by_number[1].source_key == at_limit
    assert by_number[1].is_valid
    for number in (2, 3):
        row = by_number[number]
        assert not row.is_valid
        assert len(row.source_key) <= 255
        assert not row.source_key.startswith(at_limit)  # never another order's key
        messages = [error["message"] for error in row.errors]
        assert any("259 characters long" in message for message in messages), messages
        assert any("keeps keys of at most 255 characters" in message for message in messages)
        assert row.recipient == f"Customer {number}"  # the row still tells which order it is
    assert by_number[2].source_key != by_number[3].source_key

    assert job_exclude_rows(job=job, actor=approver) == 2
    job = ship_all(job, approver)

    assert (job.status, job.shipped_count) == ("completed", 1)
    in_file = {
        line["record_id"]: line["tracking_number"] or "" for line in read_csv(source, source_root)
    }
    assert in_file[at_limit].startswith("1Z")
    assert in_file[keys[1]] == in_file[keys[2]] == ""
    # A new job still takes the long-keyed orders (as rows with errors): nothing shipped them.
    again = job_create(source=source, actor=approver)
    assert (again.row_count, again.invalid_count, again.already_shipped_count) == (2, 2, 1)


def test_a_source_with_only_a_header_row_says_it_has_no_data_rows(
    orders_csv: Callable[..., DataSource], approver: User
) -> None:
    source = orders_csv(0, name="headeronly.csv")

    with pytest.raises(DomainError) as refused:
        job_create(source=source, actor=approver)

    assert refused.value.code == "no_rows"
    assert refused.value.message == (
        f"{source} has no data rows (a header alone, or an empty table): nothing to ship."
    )
