"""Crashes at each phase, recovery choices, duplicate deliveries: nothing ships twice."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import OperationalError
from django.utils import timezone
from django_q.conf import Conf

from datasources.adapters.csv_file import CsvAdapter
from datasources.models import DataSource
from jobs.actors import system_actor
from jobs.models import AuditEntry, Job, JobRow
from jobs.services import writeback
from jobs.services.approval import job_approve
from jobs.services.cancel import job_cancel
from jobs.services.execution import Executor, job_execute
from jobs.services.reconcile import row_decide_unknown
from jobs.services.recovery import job_recovery_summary, jobs_mark_lapsed
from jobs.services.restart import job_restart
from jobs.services.resume import job_resume
from jobs.summaries import number_ranges
from shipops.errors import DomainError
from tests.factories import JobFactory
from tests.fixtures.ups_sandbox import SandboxController
from tests.jobs.conftest import (
    SimulatedCrash,
    as_if_ups_can_no_longer_answer,
    assert_the_file_has_every_shipped_tracking_number,
    previewed_job,
    read_csv,
    ship_all,
)
from tests.jobs.test_engine_failures import (
    assert_shipped_exactly_once,
    resume_and_check,
    statuses,
)
from ups.client import UpsClient

pytestmark = pytest.mark.django_db


def worker_claims(job: Job) -> int:
    claims = AuditEntry.objects.filter(job=job, action="lease_claimed")
    return claims.filter(actor_label__startswith="worker ").count()


def crash_when(calls: int, *, before: bool) -> Callable[..., Any]:
    """Wrap UpsClient.send_ship so that the ``calls``-th call dies before or after reaching UPS."""
    real_ship = UpsClient.send_ship
    seen = {"calls": 0}

    def ship(self: UpsClient, *args: Any, **kwargs: Any) -> Any:
        seen["calls"] += 1
        if seen["calls"] == calls and before:
            raise SimulatedCrash("the worker died before the request left")
        result = real_ship(self, *args, **kwargs)
        if seen["calls"] == calls:
            raise SimulatedCrash("the worker died before phase B")
        return result

    return ship


def crash_then_lapse(job: Job, approver: User) -> Job:
    """Run the job until the simulated crash, then let its lease run out."""
    with pytest.raises(SimulatedCrash):
        ship_all(job, approver)
    Job.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    marked = jobs_mark_lapsed(actor=system_actor("recovery schedule"))
    assert [marked_job.pk for marked_job in marked] == [job.pk]
    job.refresh_from_db()
    return job


def crashed_job(
    source: DataSource,
    approver: User,
    monkeypatch: pytest.MonkeyPatch,
    *,
    at_call: int,
    before: bool,
) -> Job:
    """Preview and ship a job whose worker dies at its ``at_call``-th ship call; it lapses."""
    monkeypatch.setattr(UpsClient, "send_ship", crash_when(at_call, before=before))
    job = crash_then_lapse(previewed_job(source, approver), approver)
    monkeypatch.undo()
    return job


@pytest.fixture
def six_orders(orders_csv: Callable[..., DataSource]) -> DataSource:
    return orders_csv(6)


def test_crash_before_the_ship_request_left(
    ups_sandbox: SandboxController,
    six_orders: DataSource,
    approver: User,
    source_root: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    job = crashed_job(six_orders, approver, monkeypatch, at_call=3, before=True)

    assert job.status == "interrupted"
    assert statuses(job) == ["shipped", "shipped", "unknown", "pending", "pending", "pending"]
    summary = job_recovery_summary(job)
    assert summary.headline.startswith(
        f"{job} was interrupted at row 3 of 6. Last: row 2 (Customer 2, tracking 1Z"
    )
    assert summary.headline.endswith("4 remaining.")

    with pytest.raises(DomainError) as undecided:
        job_resume(job=job, actor=approver, in_background=False)
    assert undecided.value.code == "needs_decision"
    row = JobRow.objects.get(job=job, row_number=3)
    as_if_ups_can_no_longer_answer(row)
    decided = row_decide_unknown(row=row, actor=approver)  # UPS has no shipment for it
    assert decided.sentence == (
        f"Row 3 marked not shipped (UPS has no shipment for its reference {row.reference}): "
        "resume will ship it."
    )

    resume_and_check(job, approver, ups_sandbox, six_orders, source_root)


def test_the_banner_keeps_the_row_it_crashed_at_once_that_row_is_settled(
    ups_sandbox: SandboxController,
    six_orders: DataSource,
    approver: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    job = crashed_job(six_orders, approver, monkeypatch, at_call=3, before=True)
    row = JobRow.objects.get(job=job, row_number=3)
    row_decide_unknown(row=row, actor=approver, tracking_number="1Z999AA10123456784")

    summary = job_recovery_summary(Job.objects.get(pk=job.pk))

    # Row 4 was never tried: resume goes on from it, it does not "retry" it.
    assert summary.headline.startswith(f"{job} was interrupted at row 3 of 6. Last: row 3 (")
    assert summary.last_error.startswith("Crashed at row 3 due to: ")
    assert summary.last_error.endswith(" Resume will go on from row 4.")


def test_crash_after_ship_before_phase_b_is_reconciled_by_reference(
    ups_sandbox: SandboxController,
    six_orders: DataSource,
    approver: User,
    source_root: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    job = crashed_job(six_orders, approver, monkeypatch, at_call=4, before=False)

    row = JobRow.objects.get(job=job, row_number=4)
    assert row.status == "unknown"
    [shipment] = ups_sandbox.ledger(reference=row.reference)
    # Settled long after the crash (the row last changed then): it shipped when UPS made it.
    JobRow.objects.filter(pk=row.pk).update(updated_at=timezone.now() + timedelta(days=3))

    resume_and_check(job, approver, ups_sandbox, six_orders, source_root)
    assert AuditEntry.objects.filter(row=row, action="row_reconciled").exists()
    row.refresh_from_db()
    made = datetime.fromisoformat(shipment["created_at"]).replace(microsecond=0)
    assert row.shipped_at == made  # UPS gives its activity times to the second
    # Its label, lost with UPS's answer, is fetched from UPS: the parcel can be labelled.
    row.refresh_from_db()
    assert (row.label_format, row.label.read()[:4]) == ("GIF", b"GIF8")
    assert AuditEntry.objects.filter(row=row, action="label_fetched").count() == 1


def test_restart_is_refused_while_a_row_may_exist_at_ups_unrecorded(
    ups_sandbox: SandboxController,
    six_orders: DataSource,
    approver: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    job = crashed_job(six_orders, approver, monkeypatch, at_call=4, before=False)
    assert statuses(job)[3] == "unknown"  # shipped at UPS, not in the database

    # Voiding cannot reach row 4 (no shipment number is known): restarting would ship it twice.
    with pytest.raises(DomainError) as refused:
        job_restart(job=job, acting_user=approver, void_first=True, confirm_duplicates=True)
    assert refused.value.code == "restart_unknown_rows"
    assert refused.value.message.startswith("Row 4 has an unknown outcome: UPS may already")
    assert refused.value.details == {"rows": [4]}
    job.refresh_from_db()
    assert job.status == "interrupted"
    assert Job.objects.count() == 1
    assert not any(entry.get("voided") for entry in ups_sandbox.ledger())

    row = JobRow.objects.get(job=job, row_number=4)
    shipment = ups_sandbox.ledger(reference=row.reference)[0]
    row_decide_unknown(row=row, actor=approver, tracking_number=shipment["tracking_number"])
    new_job = job_restart(job=job, acting_user=approver, void_first=True)
    assert new_job.status == "approved"
    voided = [entry for entry in ups_sandbox.ledger() if entry.get("voided")]
    assert len(voided) == 4  # rows 1-4, row 4 included now that its shipment is known
    job.refresh_from_db()
    assert (job.shipped_count, job.actual_cost_cents) == (0, 0)  # UPS charges no void


def test_crash_during_a_flush_loses_no_tracking_number(
    ups_sandbox: SandboxController,
    six_orders: DataSource,
    approver: User,
    source_root: Path,
    monkeypatch: pytest.MonkeyPatch,
    settings: Any,
) -> None:
    settings.SHIPOPS_WRITEBACK_FLUSH_SECONDS = 0  # flush after every row
    real_write_back = CsvAdapter.write_back
    flushes = iter(range(1, 100))

    def write_back(self: CsvAdapter, updates: Any) -> None:
        if next(flushes) == 3:
            raise SimulatedCrash("the worker died while writing the file")
        real_write_back(self, updates)

    monkeypatch.setattr(CsvAdapter, "write_back", write_back)
    job = crash_then_lapse(previewed_job(six_orders, approver), approver)
    monkeypatch.undo()

    assert statuses(job)[:3] == ["shipped"] * 3
    assert len(read_csv(six_orders, source_root)) == 6  # the file is whole
    # The lapse wrote row 3's tracking number, which the crash took with it.
    assert JobRow.objects.get(job=job, row_number=3).writeback_status == "written"

    resume_and_check(job, approver, ups_sandbox, six_orders, source_root)


def test_restart_needs_confirmation_and_can_void_first(
    ups_sandbox: SandboxController, six_orders: DataSource, approver: User
) -> None:
    ups_sandbox.set_fault("reject_address", endpoint="ship", address_lines=["104 Main St"])
    job = ship_all(previewed_job(six_orders, approver), approver)
    assert statuses(job)[:4] == ["shipped"] * 3 + ["failed"]
    ups_sandbox.clear_faults()

    with pytest.raises(DomainError) as refused:
        job_restart(job=job, acting_user=approver)
    assert refused.value.code == "restart_needs_confirmation"
    assert refused.value.message == (
        "Rows 1-3 already have tracking numbers (3 shipments). "
        "Restarting will create duplicate shipments."
    )

    new_job = job_restart(job=job, acting_user=approver, void_first=True)
    job.refresh_from_db()
    assert job.status == "cancelled"
    assert statuses(job) == ["voided"] * 3 + ["cancelled"] * 3
    assert all(row.tracking_number for row in JobRow.objects.filter(job=job, status="voided"))
    assert sum(1 for entry in ups_sandbox.ledger() if entry.get("voided")) == 3

    assert new_job.status == "approved"
    job_execute(job_id=new_job.pk, token=new_job.fencing_token, slice_seconds=math.inf)
    new_job.refresh_from_db()
    assert (new_job.status, new_job.shipped_count) == ("completed", 6)


def test_cancel_keeps_shipped_rows(
    ups_sandbox: SandboxController, six_orders: DataSource, approver: User
) -> None:
    ups_sandbox.set_fault("reject_address", endpoint="ship", address_lines=["103 Main St"])
    job = ship_all(previewed_job(six_orders, approver), approver)
    job = job_cancel(job=job, actor=approver)

    assert job.status == "cancelled"
    assert statuses(job) == [
        "shipped",
        "shipped",
        "cancelled",
        "cancelled",
        "cancelled",
        "cancelled",
    ]
    with pytest.raises(DomainError) as refused:
        job_resume(job=job, actor=approver)
    assert refused.value.code == "not_resumable"


def test_a_second_delivery_of_the_same_task_ships_nothing(
    ups_sandbox: SandboxController, six_orders: DataSource, approver: User
) -> None:
    job = previewed_job(six_orders, approver)
    token = job_approve(job=job, acting_user=approver, in_background=False)
    job_execute(job_id=job.pk, token=token, slice_seconds=math.inf)
    job_execute(job_id=job.pk, token=token, slice_seconds=math.inf)

    assert len(ups_sandbox.ledger()) == 6
    assert worker_claims(job) == 1


def test_a_chain_of_short_slices_ships_every_row_once(
    ups_sandbox: SandboxController,
    six_orders: DataSource,
    approver: User,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
    settings: Any,
) -> None:
    monkeypatch.setattr(Conf, "SYNC", True)  # django-q2 runs each queued task right here
    settings.SHIPOPS_EXECUTOR_SLICE_SECONDS = 0  # every slice hands over after one row
    job = previewed_job(six_orders, approver)
    with django_capture_on_commit_callbacks(execute=True):
        job_approve(job=job, acting_user=approver)
    job.refresh_from_db()
    assert job.status == "completed"
    assert len(ups_sandbox.ledger()) == 6
    # One slice per row: the sixth knows no row follows and finishes the job itself.
    assert worker_claims(job) == 6


def take_over_during_ship(monkeypatch: pytest.MonkeyPatch, take_over: Callable[[], Any]) -> None:
    """While UPS handles the first ship request, someone else takes the job (``take_over``).

    It runs on the executor's thread, which waits for that call: the test's
    database transaction is not shared with the thread that makes the call.
    """
    real_while_calling = Executor._while_calling
    calls = {"n": 0}

    def while_calling(self: Executor, *args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            take_over()
        return real_while_calling(self, *args, **kwargs)

    monkeypatch.setattr(Executor, "_while_calling", while_calling)


def execute_taken_over_during_ship(
    source: DataSource,
    approver: User,
    monkeypatch: pytest.MonkeyPatch,
    take_over: Callable[[Job], Any],
) -> Job:
    """Approve a job from ``source`` and run it here; ``take_over`` acts during the first call."""
    job = previewed_job(source, approver)
    token = job_approve(job=job, acting_user=approver, in_background=False)
    take_over_during_ship(monkeypatch, lambda: take_over(job))
    job_execute(job_id=job.pk, token=token, slice_seconds=math.inf)
    return job


def test_a_worker_that_lost_its_lease_records_what_ups_returned_and_stops(
    ups_sandbox: SandboxController,
    six_orders: DataSource,
    approver: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    job = execute_taken_over_during_ship(
        six_orders,
        approver,
        monkeypatch,
        lambda job: Job.objects.filter(pk=job.pk).update(fencing_token=job.fencing_token + 100),
    )

    row = JobRow.objects.get(job=job, row_number=1)
    (entry,) = ups_sandbox.ledger()
    assert (row.status, row.tracking_number) == ("shipped", entry["tracking_number"])
    assert statuses(job)[1:] == ["pending"] * 5  # and it wrote nothing else
    job.refresh_from_db()
    assert (job.status, job.shipped_count) == ("running", 1)


def test_cancelling_while_ups_answers_keeps_the_tracking_number(
    ups_sandbox: SandboxController,
    six_orders: DataSource,
    approver: User,
    source_root: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    job = execute_taken_over_during_ship(
        six_orders, approver, monkeypatch, lambda job: job_cancel(job=job, actor=approver)
    )

    job.refresh_from_db()
    (entry,) = ups_sandbox.ledger()
    assert job.status == "cancelled"
    assert statuses(job) == ["shipped"] + ["cancelled"] * 5
    assert JobRow.objects.get(job=job, row_number=1).tracking_number == entry["tracking_number"]
    assert AuditEntry.objects.filter(job=job, action="row_shipped_late").count() == 1
    # The worker stopped on its lost lease, dropping its write-back buffer: the cancel wrote it.
    assert_the_file_has_every_shipped_tracking_number(job, six_orders, source_root, approver)


@pytest.fixture
def failing_write_back(monkeypatch: pytest.MonkeyPatch) -> dict[str, bool]:
    state = {"fail": True}
    real_write_back = CsvAdapter.write_back

    def write_back(self: CsvAdapter, updates: Any) -> None:
        if state["fail"]:
            raise OSError(28, "No space left on device")
        real_write_back(self, updates)

    monkeypatch.setattr(CsvAdapter, "write_back", write_back)
    return state


def test_write_back_failures_end_with_warnings_and_can_be_retried(
    ups_sandbox: SandboxController,
    six_orders: DataSource,
    approver: User,
    source_root: Path,
    failing_write_back: dict[str, bool],
) -> None:
    from jobs.services.writeback import job_retry_writeback

    job = ship_all(previewed_job(six_orders, approver), approver)
    assert job.status == "completed_with_warnings"
    assert job.writeback_failed_count == 6
    assert (
        "6 tracking numbers could not be written back"
        in AuditEntry.objects.filter(job=job, action="job_finished").get().message
    )

    failing_write_back["fail"] = False
    job = job_retry_writeback(job=job, actor=approver)
    assert (job.status, job.writeback_failed_count) == ("completed", 0)
    assert_shipped_exactly_once(job, ups_sandbox, six_orders, source_root)


def test_restart_is_refused_before_anything_changes(
    ups_sandbox: SandboxController,
    six_orders: DataSource,
    approver: User,
    source_root: Path,
) -> None:
    ups_sandbox.set_fault("reject_address", endpoint="ship", address_lines=["103 Main St"])
    job = ship_all(previewed_job(six_orders, approver), approver)
    clerk = User.objects.create_user("clerk", is_staff=True)

    with pytest.raises(DomainError) as refused:
        job_restart(job=job, acting_user=clerk, void_first=True)
    assert refused.value.code == "permission_denied"

    (source_root / six_orders.file_path).unlink()  # the source is gone: no new job can be read
    with pytest.raises(DomainError):
        job_restart(job=job, acting_user=approver, void_first=True)

    job.refresh_from_db()
    assert job.status == "failed"
    assert statuses(job)[:2] == ["shipped", "shipped"]
    assert not any(entry.get("voided") for entry in ups_sandbox.ledger())
    assert Job.objects.count() == 1


def test_deciding_an_unknown_row_needs_the_approve_permission(
    ups_sandbox: SandboxController, six_orders: DataSource, approver: User
) -> None:
    job = previewed_job(six_orders, approver)
    row = JobRow.objects.get(job=job, row_number=1)
    JobRow.objects.filter(pk=row.pk).update(status="unknown")
    row.refresh_from_db()
    clerk = User.objects.create_user("clerk", is_staff=True)
    with pytest.raises(DomainError) as refused:
        row_decide_unknown(row=row, actor=clerk)
    assert refused.value.code == "permission_denied"
    assert JobRow.objects.get(pk=row.pk).status == "unknown"


@pytest.mark.parametrize(
    ("numbers", "text"),
    [([1, 2, 3], "1-3"), ([1, 2, 3, 5, 7, 8, 9], "1-3, 5, 7-9"), ([4], "4"), ([2, 4], "2, 4")],
)
def test_row_numbers_are_written_as_ranges(numbers: list[int], text: str) -> None:
    assert number_ranges(numbers) == text


def test_a_database_failure_writing_back_at_a_lapse_still_marks_every_lapsed_job(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lapsed = timezone.now() - timedelta(seconds=1)
    jobs = [JobFactory.create(status="running", lease_expires_at=lapsed) for _ in range(2)]

    def database_down(job: Job) -> None:
        raise OperationalError("the database went away")

    monkeypatch.setattr(writeback, "unwritten_rows", database_down)
    marked = jobs_mark_lapsed(actor=system_actor("recovery schedule"))

    assert sorted(job.pk for job in marked) == [job.pk for job in jobs]
    assert set(Job.objects.values_list("status", flat=True)) == {"interrupted"}
