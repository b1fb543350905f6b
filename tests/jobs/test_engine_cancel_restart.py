"""Cancel writes a stopped job's tracking numbers back; a restart that stops undoes itself."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from datasources.adapters.csv_file import CsvAdapter
from datasources.models import DataSource
from jobs.models import AuditEntry, Job, JobRow
from jobs.services import restart as restart_module
from jobs.services.approval import job_exclude_rows
from jobs.services.audit import audit_trail_problems
from jobs.services.cancel import job_cancel
from jobs.services.creation import job_create
from jobs.services.execution import job_execute
from jobs.services.reconcile import row_decide_unknown
from jobs.services.restart import job_restart
from jobs.services.resume import job_resume
from jobs.services.writeback import job_retry_writeback
from shipops.errors import DomainError
from tests.factories import DataSourceFactory
from tests.fixtures.sources import csv_bytes, order_row, order_rows
from tests.fixtures.ups_sandbox import SandboxController
from tests.jobs.conftest import (
    assert_the_file_has_every_shipped_tracking_number,
    previewed_job,
    ship_all,
    tracking_in_file,
)
from tests.jobs.test_engine_failures import resume_and_check, statuses
from tests.jobs.test_engine_recovery import crashed_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def six_orders(orders_csv: Callable[..., DataSource]) -> DataSource:
    return orders_csv(6)


@pytest.fixture
def killed_before_row_4(
    ups_sandbox: SandboxController,
    six_orders: DataSource,
    approver: User,
    monkeypatch: pytest.MonkeyPatch,
) -> Job:
    """A job whose worker was SIGKILLed before row 4's request left; its lease lapsed.

    Rows 1-3 shipped, their tracking numbers only in the write-back buffer
    (flushes are seconds apart), which died with the worker.
    """
    job = crashed_job(six_orders, approver, monkeypatch, at_call=4, before=True)
    assert statuses(job)[:3] == ["shipped"] * 3
    return job


def failed_at_row_4(sandbox: SandboxController, source: DataSource, approver: User) -> Job:
    """Ship ``source`` until UPS rejects row 4's address: rows 1-3 shipped, the job failed."""
    sandbox.set_fault("reject_address", endpoint="ship", address_lines=["104 Main St"])
    job = ship_all(previewed_job(source, approver), approver)
    sandbox.clear_faults()
    assert (job.status, statuses(job)[:4]) == ("failed", ["shipped"] * 3 + ["failed"])
    return job


# The lapse, and a cancel, write back what no worker will write any more.


def test_a_crashed_workers_unflushed_tracking_numbers_reach_the_file_when_its_lease_lapses(
    killed_before_row_4: Job, six_orders: DataSource, approver: User, source_root: Path
) -> None:
    # Nobody resumed or cancelled it yet: the lapse alone wrote them.
    assert killed_before_row_4.status == "interrupted"
    assert_the_file_has_every_shipped_tracking_number(
        killed_before_row_4, six_orders, source_root, approver
    )

    job = job_cancel(job=killed_before_row_4, actor=approver)  # the "Cancel" recovery choice

    assert (job.status, job.shipped_count, job.writeback_failed_count) == ("cancelled", 3, 0)
    assert_the_file_has_every_shipped_tracking_number(job, six_orders, source_root, approver)


def test_a_cancel_whose_write_back_fails_still_cancels_and_offers_retry_write_back(
    ups_sandbox: SandboxController,
    six_orders: DataSource,
    approver: User,
    source_root: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_write_back = CsvAdapter.write_back

    def disk_full(self: CsvAdapter, updates: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(CsvAdapter, "write_back", disk_full)
    crashed = crashed_job(six_orders, approver, monkeypatch, at_call=4, before=True)
    assert (crashed.status, crashed.writeback_failed_count) == ("interrupted", 3)  # at the lapse
    assert not any(tracking_in_file(six_orders, source_root).values())
    monkeypatch.setattr(CsvAdapter, "write_back", disk_full)  # crashed_job undid it: still full
    job = job_cancel(job=crashed, actor=approver)

    assert job.status == "cancelled"  # the cancel stands
    assert job.writeback_failed_count == 3
    failed = JobRow.objects.filter(job=job, status="shipped", writeback_status="failed")
    assert failed.count() == 3
    assert "No space left on device" in failed.first().writeback_error  # type: ignore[union-attr]

    monkeypatch.setattr(CsvAdapter, "write_back", real_write_back)
    job = job_retry_writeback(job=job, actor=approver)  # the admin's "Retry write-back"
    assert (job.status, job.writeback_failed_count) == ("cancelled", 0)
    assert_the_file_has_every_shipped_tracking_number(job, six_orders, source_root, approver)


def test_deciding_a_row_shipped_on_a_cancelled_job_writes_it_to_the_file(
    ups_sandbox: SandboxController,
    six_orders: DataSource,
    approver: User,
    source_root: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The worker dies after UPS shipped row 4, before recording it: row 4 is unknown.
    job = crashed_job(six_orders, approver, monkeypatch, at_call=4, before=False)
    job = job_cancel(job=job, actor=approver)
    row = JobRow.objects.get(job=job, row_number=4)
    assert row.status == "unknown"
    assert tracking_in_file(six_orders, source_root)[row.source_key] == ""

    (shipment,) = ups_sandbox.ledger(reference=row.reference)
    row_decide_unknown(row=row, actor=approver, tracking_number=shipment["tracking_number"])

    assert JobRow.objects.get(pk=row.pk).status == "shipped"
    assert_the_file_has_every_shipped_tracking_number(job, six_orders, source_root, approver)
    assert (
        tracking_in_file(six_orders, source_root)[row.source_key] == (shipment["tracking_number"])
    )


# A void-first restart that stops leaves nothing voided behind unshipped.


def restart_stopped_after_voiding_row_1(
    job: Job, sandbox: SandboxController, approver: User
) -> DomainError:
    """Restart ``job`` voiding first; UPS voids row 1, then refuses row 2. Return the refusal."""
    sandbox.set_fault("http_500", endpoint="void", after=1)
    with pytest.raises(DomainError) as stopped:
        job_restart(job=job, acting_user=approver, void_first=True)
    sandbox.clear_faults()
    return stopped.value


@pytest.fixture
def failed_without_retries(
    ups_sandbox: SandboxController, six_orders: DataSource, approver: User, settings: Any
) -> Job:
    """``failed_at_row_4``, with UPS calls never retried (a refused void stops at once)."""
    settings.UPS_MAX_RETRIES = 0
    return failed_at_row_4(ups_sandbox, six_orders, approver)


def test_a_void_first_restart_that_fails_makes_the_voided_rows_pending_for_resume(
    failed_without_retries: Job,
    ups_sandbox: SandboxController,
    six_orders: DataSource,
    approver: User,
    source_root: Path,
) -> None:
    job = failed_without_retries
    row_1 = JobRow.objects.get(job=job, row_number=1)
    voided_tracking = row_1.tracking_number
    assert tracking_in_file(six_orders, source_root)[row_1.source_key] == voided_tracking

    stopped = restart_stopped_after_voiding_row_1(job, ups_sandbox, approver)

    assert stopped.code == "void_failed"
    assert f"they are pending on {job} again, so Resume ships them again" in stopped.message
    assert stopped.details["restored_rows"] == [1]
    new_job = Job.objects.exclude(pk=job.pk).get()
    assert new_job.status == "cancelled"
    job.refresh_from_db()
    assert job.status == "failed"
    assert statuses(job)[:4] == ["pending", "shipped", "shipped", "failed"]
    restored = AuditEntry.objects.get(row=row_1, action="row_void_restored")
    assert "UPS voided this row's shipment" in restored.message
    assert voided_tracking in restored.message

    # Resume ships row 1 again and writes its new tracking number over the voided one.
    resume_and_check(job, approver, ups_sandbox, six_orders, source_root)
    assert JobRow.objects.get(pk=row_1.pk).tracking_number != voided_tracking
    assert audit_trail_problems(job) == []


# A restart refuses a job that changed after the operator confirmed it.


def lapse_the_restarts_hold(job: Job) -> None:
    """As if the restart took longer than SHIPOPS_LEASE_SECONDS since it last renewed its hold."""
    Job.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))


def resume_while_the_restart_reads_the_source(
    monkeypatch: pytest.MonkeyPatch, job: Job, approver: User
) -> None:
    """A second operator resumes ``job`` while a slow restart reads its source; row 4 ships."""
    real_create = restart_module.job_create

    def create_while_resumed(**kwargs: Any) -> Job:
        new_job = real_create(**kwargs)
        lapse_the_restarts_hold(job)
        token = job_resume(job=Job.objects.get(pk=job.pk), actor=approver, in_background=False)
        job_execute(job_id=job.pk, token=token, slice_seconds=0)  # ships row 4, hands over
        return new_job

    monkeypatch.setattr(restart_module, "job_create", create_while_resumed)


@pytest.mark.parametrize("choice", ["confirm_duplicates", "void_first"])
def test_restart_refuses_a_job_resumed_meanwhile_and_duplicates_or_voids_nothing(
    ups_sandbox: SandboxController,
    six_orders: DataSource,
    approver: User,
    monkeypatch: pytest.MonkeyPatch,
    choice: str,
) -> None:
    job = failed_at_row_4(ups_sandbox, six_orders, approver)
    resume_while_the_restart_reads_the_source(monkeypatch, job, approver)
    with pytest.raises(DomainError) as refused:
        job_restart(job=job, acting_user=approver, **{choice: True})

    assert refused.value.code == "restart_stale"
    assert refused.value.message.startswith(
        f"The restart of {job} stopped after reading the source: {job} was taken over (it is "
        "running now)."
    )
    job.refresh_from_db()
    assert job.status == "running"  # its worker goes on: nobody cancelled it underneath
    assert statuses(job)[:4] == ["shipped"] * 4
    assert Job.objects.exclude(pk=job.pk).get().status == "cancelled"  # the new job
    assert not any(entry.get("voided") for entry in ups_sandbox.ledger())


@pytest.mark.parametrize("finished", [False, True], ids=["stopped again", "finished"])
def test_a_void_first_restart_of_a_job_that_shipped_more_meanwhile_restores_its_voids(
    ups_sandbox: SandboxController,
    six_orders: DataSource,
    approver: User,
    source_root: Path,
    monkeypatch: pytest.MonkeyPatch,
    finished: bool,
) -> None:
    job = failed_at_row_4(ups_sandbox, six_orders, approver)
    real_void = restart_module.job_void_shipped

    def void_while_resumed(**kwargs: Any) -> list[JobRow]:
        voided = real_void(**kwargs)
        # Meanwhile, the restart's hold lapsed and another operator resumed the job:
        # row 4 shipped, row 5 failed (or shipped).
        lapse_the_restarts_hold(job)
        if not finished:
            ups_sandbox.set_fault("reject_address", endpoint="ship", address_lines=["105 Main St"])
        token = job_resume(job=Job.objects.get(pk=job.pk), actor=approver, in_background=False)
        job_execute(job_id=job.pk, token=token, slice_seconds=float("inf"))
        ups_sandbox.clear_faults()
        return voided

    monkeypatch.setattr(restart_module, "job_void_shipped", void_while_resumed)
    with pytest.raises(DomainError) as refused:
        job_restart(job=job, acting_user=approver, void_first=True)
    monkeypatch.undo()

    assert refused.value.code == "restart_stale"
    assert Job.objects.exclude(pk=job.pk).get().status == "cancelled"
    job.refresh_from_db()
    if finished:
        # A finished job never resumes: pending rows there would never ship. They stay
        # voided, and the message says those orders need a new job.
        assert refused.value.details["restored_rows"] == []
        assert "so they stay voided: ship those orders with a new job" in refused.value.message
        assert (job.status, statuses(job)) == ("completed", ["voided"] * 3 + ["shipped"] * 3)
        again = job_create(source=six_orders, actor=approver, include_already_shipped=True)
        assert again.row_count == 6
        return
    assert refused.value.details["restored_rows"] == [1, 2, 3]
    assert job.status == "failed"  # not cancelled: row 4 shipped after the confirmation
    assert statuses(job)[:5] == ["pending"] * 3 + ["shipped", "failed"]
    resume_and_check(job, approver, ups_sandbox, six_orders, source_root)
    assert audit_trail_problems(job) == []


def shipped_but_not_written_back(
    source: DataSource, approver: User, monkeypatch: pytest.MonkeyPatch
) -> Job:
    """Ship every row of ``source`` while every write-back fails (a full disk)."""

    def disk_full(self: CsvAdapter, updates: Any) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(CsvAdapter, "write_back", disk_full)
        job = ship_all(previewed_job(source, approver), approver)
    assert job.writeback_failed_count == job.shipped_count
    return job


@pytest.mark.parametrize("change", ["inserted", "edited"])
def test_retrying_the_write_back_writes_only_rows_that_still_hold_what_shipped(
    ups_sandbox: SandboxController,
    approver: User,
    source_root: Path,
    write_source: Callable[[str, bytes], Path],
    monkeypatch: pytest.MonkeyPatch,
    change: str,
) -> None:
    # No key column: rows are found by their number (docs/sources.md).
    write_source("orders.csv", csv_bytes(order_rows(3)))
    source = DataSourceFactory.create(kind="csv", file_path="orders.csv", key_column="")
    job = shipped_but_not_written_back(source, approver, monkeypatch)

    rows = order_rows(3)
    if change == "inserted":  # a new order above row 1: every shipped row moved down
        rows.insert(1, order_row(99))
    else:  # a typo fixed in row 2: rows 1 and 3 still hold their orders
        rows[2][3] = "Decatur"
    write_source("orders.csv", csv_bytes(rows))
    job = job_retry_writeback(job=job, actor=approver)

    refused = [1, 2, 3] if change == "inserted" else [2]
    failed = JobRow.objects.filter(job=job, writeback_status="failed").order_by("row_number")
    assert [row.row_number for row in failed] == refused
    assert all("no longer hold the orders that shipped" in row.writeback_error for row in failed)
    assert job.writeback_failed_count == len(refused)
    tracking = dict(JobRow.objects.filter(job=job).values_list("row_number", "tracking_number"))
    expected = {f"SO-{n:05d}": "" if n in refused else tracking[n] for n in (1, 2, 3)}
    in_file = tracking_in_file(source, source_root)
    assert {order: in_file[order] for order in expected} == expected
    assert in_file.get("SO-00099", "") == ""


def test_a_write_back_after_the_key_column_changed_writes_nothing(
    ups_sandbox: SandboxController,
    approver: User,
    source_root: Path,
    write_source: Callable[[str, bytes], Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows = order_rows(3)
    for cells, order_number in zip(rows[1:], ["3", "1", "2"], strict=True):
        cells[0] = order_number  # order numbers that are also row numbers, in another order
    write_source("orders.csv", csv_bytes(rows))
    source = DataSourceFactory.create(kind="csv", file_path="orders.csv", key_column="")
    job = shipped_but_not_written_back(source, approver, monkeypatch)
    DataSource.objects.filter(pk=source.pk).update(key_column="order_id")

    job = job_retry_writeback(job=job, actor=approver)

    assert (source_root / "orders.csv").read_bytes() == csv_bytes(rows)  # no order got another's
    assert job.writeback_failed_count == 3
    failed = JobRow.objects.filter(job=job, writeback_status="failed").first()
    assert failed is not None
    assert 'changed since these rows were read (from row numbers to "order_id")' in (
        failed.writeback_error
    )


@pytest.mark.parametrize("stopped", [True, False], ids=["restart stopped", "new job cancelled"])
def test_orders_whose_shipments_a_restart_voided_are_taken_by_the_next_job(
    failed_without_retries: Job,
    ups_sandbox: SandboxController,
    six_orders: DataSource,
    approver: User,
    source_root: Path,
    stopped: bool,
) -> None:
    job = failed_without_retries
    if stopped:  # UPS voids row 1, then refuses: row 1 is pending again, and the job cancelled
        restart_stopped_after_voiding_row_1(job, ups_sandbox, approver)
        job_cancel(job=job, actor=approver, reason="Not today after all.")
        voided = ["SO-00001"]
    else:  # rows 1-3 voided; the restart's new job is cancelled before it ships
        new_job = job_restart(job=job, acting_user=approver, void_first=True)
        job_cancel(job=new_job, actor=approver, reason="Not today after all.")
        voided = ["SO-00001", "SO-00002", "SO-00003"]
    in_file = tracking_in_file(six_orders, source_root)
    assert all(in_file[key] for key in voided)  # the voided numbers are still in the file

    again = job_create(source=six_orders, actor=approver)

    taken = list(again.rows.values_list("source_key", flat=True))
    assert taken == [*voided, "SO-00004", "SO-00005", "SO-00006"]
    created = AuditEntry.objects.get(job=again, action="job_created")
    assert created.data["voided_tracking_keys"] == voided
    assert "because ShipOps voided that shipment" in created.message


def test_a_cancel_leaves_the_excluded_rows_skipped(
    ups_sandbox: SandboxController, orders_csv: Callable[..., DataSource], approver: User
) -> None:
    rows = order_rows(4)
    rows[2][5] = rows[3][5] = "3030"  # not a ZIP code: rows 2 and 3 are excluded
    job = previewed_job(orders_csv(0, rows=rows), approver)
    assert job_exclude_rows(job=job, actor=approver) == 2

    job_cancel(job=job, actor=approver)

    assert statuses(job) == ["cancelled", "skipped", "skipped", "cancelled"]
    job.refresh_from_db()
    assert (job.status, job.skipped_count) == ("cancelled", 2)
    cancelled = AuditEntry.objects.get(job=job, action="job_cancelled")
    assert cancelled.message.startswith("Cancelled: 2 rows will not ship;")


def test_cancelling_one_row_says_row_not_rows(
    ups_sandbox: SandboxController, orders_csv: Callable[..., DataSource], approver: User
) -> None:
    rows = order_rows(2)
    rows[2][5] = "3030"  # not a ZIP code: row 2 is excluded, one row is left to cancel
    job = previewed_job(orders_csv(0, rows=rows), approver)
    job_exclude_rows(job=job, actor=approver)

    job_cancel(job=job, actor=approver)

    excluded = AuditEntry.objects.get(job=job, action="rows_excluded")
    assert excluded.message == f"Excluded 1 row from job {job.pk}."
    cancelled = AuditEntry.objects.get(job=job, action="job_cancelled")
    assert cancelled.message.startswith("Cancelled: 1 row will not ship; 0 shipped rows are kept.")
    created = AuditEntry.objects.get(job=job, action="job_created")
    assert ": 2 rows, 1 with errors" in created.message
