"""Fail-fast, unknown outcomes and resume: every row ships exactly once per the UPS ledger."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import LazySettings
from django.contrib.auth.models import User
from django.db import InterfaceError

from datasources.models import DataSource
from jobs.actors import system_actor
from jobs.models import AuditEntry, Job, JobRow
from jobs.services import execution, recovery
from jobs.services.approval import job_approve
from jobs.services.cancel import job_cancel
from jobs.services.execution import job_execute
from jobs.services.lease import Lease
from jobs.services.recovery import job_interrupt_on_error, job_recovery_summary
from jobs.services.resume import job_resume
from shipops.errors import DomainError
from tests.fixtures.sources import csv_bytes, order_rows
from tests.fixtures.ups_sandbox import SandboxController
from tests.jobs.conftest import break_at_row, previewed_job, read_csv, ship_all

pytestmark = pytest.mark.django_db


def statuses(job: Job) -> list[str]:
    return list(
        JobRow.objects.filter(job=job).order_by("row_number").values_list("status", flat=True)
    )


def resume_to_end(job: Job, user: User) -> Job:
    token = job_resume(job=job, actor=user, in_background=False)
    job_execute(job_id=job.pk, token=token, slice_seconds=math.inf)
    job.refresh_from_db()
    return job


def assert_shipped_exactly_once(
    job: Job, sandbox: SandboxController, source: DataSource, root: Path
) -> None:
    rows = JobRow.objects.filter(job=job)
    live = [entry for entry in sandbox.ledger() if not entry.get("voided")]
    references = [entry["reference"] for entry in live]
    assert sorted(references) == sorted(rows.values_list("reference", flat=True))
    by_reference = {entry["reference"]: entry["tracking_number"] for entry in live}
    for row in rows:
        assert row.status == "shipped"
        assert row.tracking_number == by_reference[row.reference]
    in_file = {line["order_id"]: line["tracking_number"] for line in read_csv(source, root)}
    assert in_file == dict(rows.values_list("source_key", "tracking_number"))


def resume_and_check(
    job: Job, user: User, sandbox: SandboxController, source: DataSource, root: Path
) -> None:
    """Resume ``job`` to the end: it completes, every row shipped exactly once."""
    job = resume_to_end(job, user)
    assert job.status == "completed"
    assert_shipped_exactly_once(job, sandbox, source, root)


def assert_row_6_left_pending_then_shipped_on_resume(
    job: Job, user: User, sandbox: SandboxController, source: DataSource, root: Path
) -> None:
    """The batch failed before row 6 left; once UPS is well, resume ships every row once."""
    assert job.status == "failed"
    assert statuses(job) == ["shipped"] * 5 + ["pending"] * 5
    assert job_recovery_summary(job).last_error.endswith(" Resume will retry row 6.")
    sandbox.clear_faults()
    resume_and_check(job, user, sandbox, source, root)


@pytest.fixture
def ten_orders(orders_csv: Callable[..., DataSource]) -> DataSource:
    rows = order_rows(10)
    rows[4][5] = "30305"  # row 4 ships to a postal code the test may make UPS reject
    return orders_csv(10, rows=rows)


def test_first_ups_refusal_stops_the_batch_at_that_exact_row(
    ups_sandbox: SandboxController, ten_orders: DataSource, approver: User, source_root: Path
) -> None:
    ups_sandbox.set_fault("reject_address", endpoint="ship", postal_codes=["30305"])
    job = ship_all(previewed_job(ten_orders, approver), approver)

    assert job.status == "failed"
    assert statuses(job) == ["shipped"] * 3 + ["failed"] + ["pending"] * 6
    failed = JobRow.objects.get(job=job, row_number=4)
    assert job.last_error_row == failed
    assert failed.error_code
    assert failed.error_code == job.last_error_code
    assert job.last_error_message.startswith("Row 4: ")
    assert len(ups_sandbox.ledger()) == 3
    in_file = [line["tracking_number"] or "" for line in read_csv(ten_orders, source_root)]
    shipped = list(JobRow.objects.filter(job=job, row_number__lte=3).order_by("row_number"))
    assert in_file[:3] == [row.tracking_number for row in shipped]
    assert in_file[3:] == [""] * 7

    ups_sandbox.clear_faults()
    job = resume_to_end(job, approver)
    assert job.status == "completed"
    assert job.resume_count == 1
    assert_shipped_exactly_once(job, ups_sandbox, ten_orders, source_root)


def test_a_cancelled_failed_job_counts_no_failed_row(
    ups_sandbox: SandboxController, ten_orders: DataSource, approver: User
) -> None:
    ups_sandbox.set_fault("reject_address", endpoint="ship", postal_codes=["30305"])
    job = ship_all(previewed_job(ten_orders, approver), approver)
    assert job.failed_count == 1

    job_cancel(job=job, actor=approver)

    job.refresh_from_db()
    assert (job.shipped_count, job.failed_count) == (3, 0)
    assert JobRow.objects.filter(job=job, status="cancelled").count() == 7


def test_unknown_ship_outcome_stops_the_batch_and_resume_finds_the_shipment(
    ups_sandbox: SandboxController,
    ten_orders: DataSource,
    approver: User,
    source_root: Path,
    settings: object,
) -> None:
    settings.UPS_READ_TIMEOUT = 0.5  # type: ignore[attr-defined]
    ups_sandbox.set_fault("timeout_after_ship", count=1, after=2, hold_seconds=2)
    job = ship_all(previewed_job(ten_orders, approver), approver)

    assert job.status == "failed"
    assert statuses(job) == ["shipped"] * 2 + ["unknown"] + ["pending"] * 7
    unknown = JobRow.objects.get(job=job, row_number=3)
    assert len(ups_sandbox.ledger(reference=unknown.reference)) == 1
    assert unknown.tracking_number == ""
    # Said once: the shipment may exist, look it up by its reference.
    assert job.last_error_message.startswith("Row 3: ")
    assert job.last_error_message.count("may or may not") == 1
    assert job.last_error_message.endswith("Look it up by its reference before shipping again.")

    resume_and_check(job, approver, ups_sandbox, ten_orders, source_root)


def test_a_ship_request_that_never_reached_ups_is_retried_on_resume(
    ups_sandbox: SandboxController, ten_orders: DataSource, approver: User, source_root: Path
) -> None:
    ups_sandbox.set_fault("http_429", endpoint="ship", after=5, retry_after=1)
    job = ship_all(previewed_job(ten_orders, approver), approver)

    assert_row_6_left_pending_then_shipped_on_resume(
        job, approver, ups_sandbox, ten_orders, source_root
    )


def test_a_ship_request_held_past_its_send_deadline_is_not_sent_and_resume_ships_it(
    ups_sandbox: SandboxController,
    ten_orders: DataSource,
    approver: User,
    source_root: Path,
    settings: LazySettings,
) -> None:
    job = previewed_job(ten_orders, approver)  # the token is fetched here, at full speed
    settings.UPS_SHIP_SEND_SECONDS = 0.5
    # Row 6's request is refused with a 401; the new token takes a second to come.
    ups_sandbox.set_fault("expired_token", endpoint="ship", after=5, count=1)
    ups_sandbox.set_fault("latency", endpoint="token", ms=1000)
    job = ship_all(job, approver)

    assert "was not sent, so UPS never received it" in job.last_error_message
    assert len(ups_sandbox.ledger()) == 5
    assert ups_sandbox.calls("ship") == 6  # the refused one; the resend never left
    assert_row_6_left_pending_then_shipped_on_resume(
        job, approver, ups_sandbox, ten_orders, source_root
    )


def test_a_row_changed_in_the_source_stops_the_batch_before_shipping_it(
    ups_sandbox: SandboxController,
    ten_orders: DataSource,
    approver: User,
    write_source: Callable[[str, bytes], Path],
) -> None:
    job = previewed_job(ten_orders, approver)
    rows = order_rows(10)
    rows[4][5] = "30305"
    rows[6][3] = "Savannah"  # row 6 moves after the preview
    write_source(ten_orders.file_path, csv_bytes(rows))

    job = ship_all(job, approver)
    assert job.status == "failed"
    assert job.last_error_code == "source_changed"
    assert "Row 6 (key SO-00006) changed in the source" in job.last_error_message
    assert statuses(job) == ["shipped"] * 5 + ["pending"] * 5
    assert len(ups_sandbox.ledger()) == 5


def test_an_unexpected_error_interrupts_the_job_at_once_naming_only_its_kind(
    ups_sandbox: SandboxController,
    ten_orders: DataSource,
    approver: User,
    source_root: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    break_at_row(monkeypatch, execution, 5, ValueError("a bug, quoting the row: 5 Secret Lane"))
    with pytest.raises(ValueError, match="Secret Lane"):  # still raised: the task fails, logged
        ship_all(previewed_job(ten_orders, approver), approver)

    job = Job.objects.get()
    # At once, not when the lease lapses a minute later; the error's text stays in the log.
    assert (job.status, job.lease_owner, job.lease_expires_at) == ("interrupted", "", None)
    assert job.last_error_code == "worker_error"
    assert job.last_error_message == (
        "An unexpected error (ValueError) stopped the worker; its log has the details."
    )
    # Row 5 was being prepared while row 4's request was out: its answer is recorded all the same.
    assert statuses(job) == ["shipped"] * 4 + ["pending"] * 6
    row_4 = JobRow.objects.get(job=job, row_number=4)
    assert row_4.tracking_number.startswith("1Z")
    assert row_4.label.name
    assert row_4.actual_cost_cents
    summary = job_recovery_summary(job)
    assert "due to: An unexpected error (ValueError) stopped the worker" in summary.last_error
    entry = AuditEntry.objects.get(job=job, action="job_interrupted")
    assert entry.message == f"Interrupted: {job.last_error_message}"

    monkeypatch.undo()
    resume_and_check(job, approver, ups_sandbox, ten_orders, source_root)


def test_an_unexpected_error_leaves_a_job_another_worker_took_alone(
    ups_sandbox: SandboxController, ten_orders: DataSource, approver: User
) -> None:
    job = previewed_job(ten_orders, approver)
    token = job_approve(job=job, acting_user=approver, in_background=False)
    stale = Lease(job_id=job.pk, token=token - 1, owner="an earlier worker")
    error = RuntimeError("late")

    assert job_interrupt_on_error(lease=stale, actor=system_actor("test"), error=error) is False
    job.refresh_from_db()
    assert (job.status, job.last_error_code) == ("approved", "")
    assert not AuditEntry.objects.filter(job=job, action="job_interrupted").exists()
    current = Lease(job_id=job.pk, token=token, owner="this worker")
    assert job_interrupt_on_error(lease=current, actor=system_actor("test"), error=error) is True
    job.refresh_from_db()
    assert (job.status, job.last_error_code) == ("interrupted", "worker_error")


def test_interrupting_on_an_error_never_hides_that_error(
    ups_sandbox: SandboxController,
    ten_orders: DataSource,
    approver: User,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(**kwargs: Any) -> Any:
        raise KeyError("a bug")

    def database_gone(*args: Any, **kwargs: Any) -> None:
        raise InterfaceError("connection already closed")

    monkeypatch.setattr(execution, "shipment_request", broken)
    monkeypatch.setattr(recovery, "_mark_one", database_gone)
    with pytest.raises(KeyError, match="a bug"):  # the task's own error, not the handler's
        ship_all(previewed_job(ten_orders, approver), approver)
    job = Job.objects.get()
    assert job.status == "running"  # left to the lease, as after a crash
    logged = [record.getMessage() for record in caplog.records]
    assert f"Job {job.pk}: the worker stopped on an unexpected error." in logged
    assert f"Job {job.pk}: could not record the error that stopped it." in logged


def test_a_domain_error_interrupts_the_job_with_its_own_message(
    ups_sandbox: SandboxController, ten_orders: DataSource, approver: User
) -> None:
    job = previewed_job(ten_orders, approver)
    token = job_approve(job=job, acting_user=approver, in_background=False)
    lease = Lease(job_id=job.pk, token=token, owner="this worker")
    error = DomainError("source_missing", "The file orders.csv is no longer in sources/.")

    assert job_interrupt_on_error(lease=lease, actor=system_actor("test"), error=error)
    job.refresh_from_db()
    assert (job.status, job.last_error_code) == ("interrupted", "source_missing")
    assert job.last_error_message == "The file orders.csv is no longer in sources/."
