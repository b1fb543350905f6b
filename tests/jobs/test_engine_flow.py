"""The batch flow over real files, the real database and the UPS sandbox over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Sum
from pytest_django import DjangoAssertNumQueries

from datasources.adapters.csv_file import CsvAdapter
from datasources.errors import SourceError
from datasources.models import DataSource
from jobs.admin.exports import result_rows
from jobs.filters import RowFilter
from jobs.models import AuditEntry, Job, JobRow
from jobs.services import preview
from jobs.services.approval import job_approve, job_exclude_rows
from jobs.services.creation import job_create
from jobs.services.preview import job_preview_run, job_preview_start
from jobs.summaries import preview_summary
from shipops.errors import DomainError
from tests.fixtures.sources import csv_bytes, order_row, order_rows
from tests.fixtures.ups_sandbox import SandboxController
from tests.jobs.conftest import previewed_job, read_csv, ship_all

pytestmark = pytest.mark.django_db


def test_a_500_row_batch_ships_every_row_once_and_writes_every_tracking_number_back(
    ups_sandbox: SandboxController,
    orders_csv: Callable[..., DataSource],
    approver: User,
    source_root: Path,
) -> None:
    source = orders_csv(500)
    job = ship_all(previewed_job(source, approver), approver)

    assert job.status == "completed"
    assert (job.shipped_count, job.failed_count) == (500, 0)
    rows = JobRow.objects.filter(job=job)
    assert rows.filter(status="shipped", writeback_status="written").count() == 500
    ledger = ups_sandbox.ledger()
    assert len(ledger) == 500
    assert {entry["reference"] for entry in ledger} == set(rows.values_list("reference", flat=True))
    in_file = {line["order_id"]: line["tracking_number"] for line in read_csv(source, source_root)}
    in_db = dict(rows.values_list("source_key", "tracking_number"))
    assert in_file == in_db
    assert job.actual_cost_cents == rows.aggregate(total=Sum("actual_cost_cents"))["total"]
    assert all(row.label and row.label.storage.exists(str(row.label.name)) for row in rows[:5])


def test_preview_total_is_the_sum_of_the_rated_rows(
    ups_sandbox: SandboxController, orders_csv: Callable[..., DataSource], approver: User
) -> None:
    job = previewed_job(orders_csv(45), approver)

    rows = JobRow.objects.filter(job=job)
    assert job.status == "previewed"
    assert rows.filter(estimated_cost_cents__isnull=True).count() == 0
    assert job.estimated_cost_cents == rows.aggregate(total=Sum("estimated_cost_cents"))["total"]
    summary = preview_summary(job)
    assert len(summary.lines) == 20
    assert summary.more == 25
    assert summary.total_rows == 45
    assert summary.total_cost_cents == job.estimated_cost_cents
    assert ups_sandbox.calls("ship") == 0


def test_auto_mode_skips_the_preview(
    ups_sandbox: SandboxController, orders_csv: Callable[..., DataSource], approver: User
) -> None:
    job = job_create(source=orders_csv(3), actor=approver, mode="auto")
    job = ship_all(job, approver)

    assert job.status == "completed"
    assert ups_sandbox.calls("rate") == 0
    assert list(AuditEntry.objects.filter(job=job, action__startswith="preview")) == []


def test_confirm_mode_refuses_approval_before_preview(
    orders_csv: Callable[..., DataSource], approver: User
) -> None:
    job = job_create(source=orders_csv(2), actor=approver)
    with pytest.raises(DomainError) as refused:
        job_approve(job=job, acting_user=approver, in_background=False)
    assert refused.value.code == "preview_first"


def test_approval_needs_the_permission(
    ups_sandbox: SandboxController, orders_csv: Callable[..., DataSource], approver: User
) -> None:
    job = previewed_job(orders_csv(2), approver)
    clerk = User.objects.create_user("clerk", is_staff=True)
    with pytest.raises(DomainError) as refused:
        job_approve(job=job, acting_user=clerk)
    assert refused.value.code == "permission_denied"
    job.refresh_from_db()
    assert (job.status, job.approved_by) == ("previewed", None)


def test_invalid_rows_block_approval_until_excluded(
    ups_sandbox: SandboxController, orders_csv: Callable[..., DataSource], approver: User
) -> None:
    rows = order_rows(3)
    rows[2][5] = "3030"  # not a ZIP code
    source = orders_csv(3, rows=rows)
    job = previewed_job(source, approver)
    assert job.invalid_count == 1
    bad = JobRow.objects.get(job=job, row_number=2)
    assert "zip" in bad.errors[0]["message"].lower()

    with pytest.raises(DomainError) as refused:
        job_approve(job=job, acting_user=approver, in_background=False)
    assert refused.value.code == "invalid_rows"

    assert job_exclude_rows(job=job, actor=approver) == 1
    job = ship_all(job, approver)
    assert job.status == "completed"
    assert job.shipped_count == 2
    assert JobRow.objects.get(pk=bad.pk).status == "skipped"


def test_a_row_with_errors_still_names_its_recipient(
    orders_csv: Callable[..., DataSource],
    approver: User,
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    rows = order_rows(3)
    rows[2][1] = "  Ada   Lovelace "
    rows[2][5] = "3030"  # not a ZIP code: no shipment for this row
    rows[3][1] = "#N/A"  # an error value is no name
    rows[3][5] = "3030"

    job = job_create(source=orders_csv(3, rows=rows), actor=approver)

    recipients = dict(JobRow.objects.filter(job=job).values_list("row_number", "recipient_as_read"))
    assert recipients == {1: "", 2: "Ada Lovelace", 3: ""}
    by_number = {row.row_number: row for row in JobRow.objects.filter(job=job)}
    assert [by_number[n].recipient for n in (1, 2, 3)] == ["Customer 1", "Ada Lovelace", ""]
    assert not by_number[2].shipment
    # The preview and the export read it with the rows: no query per row with errors.
    with django_assert_num_queries(2):
        lines = preview_summary(job).lines
    assert [line.recipient for line in lines] == ["Customer 1", "Ada Lovelace", ""]
    with django_assert_num_queries(1):
        exported = list(result_rows(job))
    assert [line[2] for line in exported] == ["Customer 1", "Ada Lovelace", ""]


def test_filter_and_already_shipped_rows_are_left_out_and_reported(
    ups_sandbox: SandboxController, orders_csv: Callable[..., DataSource], approver: User
) -> None:
    rows = [[*order_rows(0)[0], "tracking_number"]]
    rows += [[*order_row(n), ""] for n in range(1, 7)]
    rows[3][-1] = "1Z999AA10123456784"
    rows[4][4] = "NY"
    source = orders_csv(0, rows=rows)

    job = job_create(
        source=source,
        actor=approver,
        row_filter=RowFilter.from_json({"column": "State", "value": "ga"}),  # as headers match
    )
    assert job.filter["column"] == "state"  # the source's own name, kept with the job
    assert job.already_shipped_count == 1
    assert sorted(JobRow.objects.filter(job=job).values_list("row_number", flat=True)) == [
        1,
        2,
        5,
        6,
    ]
    created = AuditEntry.objects.get(job=job, action="job_created")
    assert "1 already shipped and left out" in created.message
    assert created.data["already_shipped_keys"] == ["SO-00003"]


@pytest.mark.parametrize(
    ("row_filter", "code", "message"),
    [
        ({"first_row": 9}, "no_rows", "No rows to ship in orders.csv: 0 already shipped"),
        (
            {"column": "region", "value": "south"},
            "filter_column_missing",
            'orders.csv has no column "region" to filter on. Its columns: "order_id", "recipient"',
        ),
    ],
    ids=["no rows left", "no such column"],
)
def test_a_job_is_refused_when_its_filter_takes_nothing(
    orders_csv: Callable[..., DataSource],
    approver: User,
    row_filter: dict[str, Any],
    code: str,
    message: str,
) -> None:
    with pytest.raises(DomainError) as refused:
        job_create(source=orders_csv(3), actor=approver, row_filter=RowFilter.from_json(row_filter))
    assert (refused.value.code, refused.value.message[: len(message)]) == (code, message)
    assert not Job.objects.exists()


def test_a_table_that_cannot_take_tracking_numbers_ships_nothing(
    ups_sandbox: SandboxController, orders_table: Callable[..., DataSource], approver: User
) -> None:
    # Shipped rows of such a table would never show as shipped: the next job ships them again.
    source = orders_table(3, tracking_column="ups_tracking")
    source.save()
    with pytest.raises(SourceError) as refused:
        job_create(source=source, actor=approver, mode="auto")
    assert refused.value.code == "writeback_column_missing"
    assert 'has no column "ups_tracking" for write-back' in refused.value.message
    assert not Job.objects.exists()

    # A job created before the data source was changed is refused at approval.
    DataSource.objects.filter(pk=source.pk).update(tracking_column="tracking_number")
    source.refresh_from_db()
    job = job_create(source=source, actor=approver, mode="auto")
    DataSource.objects.filter(pk=source.pk).update(tracking_column="ups_tracking")
    job.refresh_from_db()
    with pytest.raises(SourceError, match="ups_tracking"):
        job_approve(job=job, acting_user=approver, in_background=False)
    job.refresh_from_db()
    assert job.status == "draft"
    assert ups_sandbox.ledger() == []


def test_orders_an_earlier_job_shipped_are_left_out_even_if_the_source_lost_them(
    ups_sandbox: SandboxController,
    orders_csv: Callable[..., DataSource],
    approver: User,
    write_source: Callable[[str, bytes], Path],
) -> None:
    source = orders_csv(4)
    ship_all(previewed_job(source, approver), approver)
    # Someone restores yesterday's copy of the file: no tracking numbers in it any more.
    write_source(source.file_path, csv_bytes(order_rows(5)))

    again = job_create(source=source, actor=approver)
    assert again.already_shipped_count == 4
    assert list(JobRow.objects.filter(job=again).values_list("source_key", flat=True)) == [
        "SO-00005"
    ]
    created = AuditEntry.objects.get(job=again, action="job_created")
    assert created.data["already_shipped_keys"] == [f"SO-0000{n}" for n in range(1, 5)]
    # Shipping such an order again stays possible, on purpose.
    on_purpose = job_create(source=source, actor=approver, include_already_shipped=True)
    assert on_purpose.row_count == 5


@pytest.mark.parametrize("key_column_now", ["", "order_id"])
def test_row_numbers_an_earlier_job_shipped_are_not_taken_for_orders(
    ups_sandbox: SandboxController,
    orders_csv: Callable[..., DataSource],
    approver: User,
    write_source: Callable[[str, bytes], Path],
    key_column_now: str,
) -> None:
    source = orders_csv(2)
    DataSource.objects.filter(pk=source.pk).update(key_column="")  # keys: rows "1" and "2"
    source.refresh_from_db()
    ship_all(previewed_job(source, approver), approver)
    # Tomorrow's file: other orders on rows 1 and 2, numbered 1 and 2; keyed by row
    # number still, or by the new order number column.
    rows = order_rows(2)
    for number, row in enumerate(rows[1:], start=1):
        row[0] = str(number)
    write_source(source.file_path, csv_bytes(rows))
    DataSource.objects.filter(pk=source.pk).update(key_column=key_column_now)
    source.refresh_from_db()

    again = job_create(source=source, actor=approver)

    assert again.key_column == key_column_now
    assert again.already_shipped_count == 0
    assert list(again.rows.values_list("source_key", flat=True)) == ["1", "2"]


@pytest.mark.parametrize("kind", ["csv", "database"])
def test_earlier_jobs_count_under_the_same_key_column_however_it_is_named(
    ups_sandbox: SandboxController,
    orders_csv: Callable[..., DataSource],
    orders_table: Callable[..., DataSource],
    approver: User,
    write_source: Callable[[str, bytes], Path],
    kind: str,
) -> None:
    if kind == "csv":
        source = orders_csv(3)  # keyed by "order_id"
    else:
        source = orders_table(3, key_column="")  # keyed by the primary key, order_id
        source.save()
    ship_all(previewed_job(source, approver), approver)
    # The source loses its tracking numbers, and its key column is named otherwise.
    if kind == "csv":
        write_source(source.file_path, csv_bytes(order_rows(3)))
        DataSource.objects.filter(pk=source.pk).update(key_column="Order ID")
    else:
        with connection.cursor() as cursor:
            cursor.execute("UPDATE shop_orders SET tracking_number = NULL, shipped_at = NULL")
        DataSource.objects.filter(pk=source.pk).update(key_column="order_id")
    source.refresh_from_db()

    with pytest.raises(DomainError, match="3 already shipped"):
        job_create(source=source, actor=approver)


def test_a_file_without_a_key_column_is_matched_by_row_and_content(
    ups_sandbox: SandboxController,
    orders_csv: Callable[..., DataSource],
    approver: User,
    write_source: Callable[[str, bytes], Path],
) -> None:
    source = orders_csv(3)
    DataSource.objects.filter(pk=source.pk).update(key_column="")
    source.refresh_from_db()
    ship_all(previewed_job(source, approver), approver)
    # The write-back is lost (a copy restored), and row 2 is now another order.
    rows = order_rows(4)
    write_source(source.file_path, csv_bytes([*rows[:2], rows[4], rows[3]]))

    again = job_create(source=source, actor=approver)

    assert again.already_shipped_count == 2
    assert list(again.rows.values_list("source_key", flat=True)) == ["2"]


def test_a_file_without_a_key_column_never_ships_again_an_order_whose_row_moved_unwritten(
    ups_sandbox: SandboxController,
    orders_csv: Callable[..., DataSource],
    approver: User,
    write_source: Callable[[str, bytes], Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = orders_csv(3)
    DataSource.objects.filter(pk=source.pk).update(key_column="")
    source.refresh_from_db()

    def locked(self: CsvAdapter, updates: object) -> None:
        raise OSError(13, "Permission denied")

    with monkeypatch.context() as patch:  # the file was read-only while the batch ran
        patch.setattr(CsvAdapter, "write_back", locked)
        shipped = ship_all(previewed_job(source, approver), approver)
    assert shipped.writeback_failed_count == 3
    # Then someone inserted an order at the top: the three shipped orders moved down a row.
    rows = order_rows(4)
    write_source(source.file_path, csv_bytes([rows[0], rows[4], *rows[1:4]]))

    again = job_create(source=source, actor=approver)

    assert again.already_shipped_count == 3
    assert list(again.rows.values_list("source_key", flat=True)) == ["1"]  # the new order


def test_a_preview_stopped_by_ctrl_c_goes_back_to_draft_at_once(
    ups_sandbox: SandboxController,
    orders_csv: Callable[..., DataSource],
    approver: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    job = job_create(source=orders_csv(3), actor=approver)
    token = job_preview_start(job=job, actor=approver, in_background=False)

    def ctrl_c(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(preview, "_preview_rows", ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        job_preview_run(job_id=job.pk, token=token)
    monkeypatch.undo()

    job.refresh_from_db()
    assert (job.status, job.last_error_code) == ("draft", "preview_stopped")
    # Not "Job 1 is previewing" until its lease lapses: it can be previewed again now.
    job_preview_run(
        job_id=job.pk, token=job_preview_start(job=job, actor=approver, in_background=False)
    )
    job.refresh_from_db()
    assert job.status == "previewed"


def test_rows_are_excluded_only_from_a_job_not_yet_approved_that_has_errors(
    orders_csv: Callable[..., DataSource], approver: User
) -> None:
    clean = job_create(source=orders_csv(2), actor=approver)
    with pytest.raises(DomainError) as nothing:
        job_exclude_rows(job=clean, actor=approver)
    assert (nothing.value.code, nothing.value.message) == (
        "nothing_to_exclude",
        f"{clean} has no rows with errors to exclude.",
    )
    Job.objects.filter(pk=clean.pk).update(status="completed")
    with pytest.raises(DomainError) as late:
        job_exclude_rows(job=clean, actor=approver)
    assert late.value.code == "not_excludable"
    assert late.value.message == (
        f"{clean} is completed: rows can be excluded only from a draft or previewed job, "
        "before approval."
    )
    assert not AuditEntry.objects.filter(job=clean, action="rows_excluded").exists()
