"""Phase B of one row overlaps the next row's ship call; an interruption loses neither."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from datasources.models import DataSource
from jobs.actors import system_actor
from jobs.models import AuditEntry, Job, JobRow
from jobs.services.approval import job_approve
from jobs.services.execution import Executor, job_execute
from jobs.services.recording import ShipmentRecorder, Shipped
from jobs.services.recovery import jobs_mark_lapsed
from tests.fixtures.ups_sandbox import SandboxController
from tests.jobs.conftest import SimulatedCrash, previewed_job
from tests.jobs.test_engine_failures import assert_shipped_exactly_once, resume_to_end, statuses
from ups.client import UpsClient

pytestmark = pytest.mark.django_db

WAIT_SECONDS = 10


def count_ship_calls(monkeypatch: pytest.MonkeyPatch, started: dict[int, threading.Event]) -> None:
    """Wrap UpsClient.ship so that each call sets its event (by call number) as it starts."""
    real_ship = UpsClient.ship
    calls = {"n": 0}

    def ship(self: UpsClient, *args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        started.setdefault(calls["n"], threading.Event()).set()
        return real_ship(self, *args, **kwargs)

    monkeypatch.setattr(UpsClient, "ship", ship)


def before_recording(
    monkeypatch: pytest.MonkeyPatch, row_number: int, action: Callable[[], object]
) -> None:
    """Run ``action`` just before phase B of row ``row_number``."""
    real_record = ShipmentRecorder.record

    def record(self: ShipmentRecorder, shipped: Shipped) -> None:
        if shipped.row.row_number == row_number:
            action()
        real_record(self, shipped)

    monkeypatch.setattr(ShipmentRecorder, "record", record)


def approve_and_execute(source: DataSource, approver: User) -> Job:
    """Preview and approve a job from ``source``, then run it to the end in this thread."""
    job = previewed_job(source, approver)
    token = job_approve(job=job, acting_user=approver, in_background=False)
    job_execute(job_id=job.pk, token=token, slice_seconds=math.inf)
    return job


def lapse(job: Job) -> None:
    """Let the job's lease run out and the recovery schedule find it, as after a crash."""
    Job.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    jobs_mark_lapsed(actor=system_actor("recovery schedule"))
    job.refresh_from_db()


@pytest.fixture
def shipped_exactly_once(
    ups_sandbox: SandboxController, source_root: Path
) -> Callable[[Job, DataSource], None]:
    """Check that every row of a job is shipped once, in the database, the ledger and file."""

    def check(job: Job, source: DataSource) -> None:
        job.refresh_from_db()
        assert job.status == "completed"
        assert_shipped_exactly_once(job, ups_sandbox, source, source_root)

    return check


def test_the_next_ship_call_starts_before_the_row_is_recorded(
    orders_csv: Callable[..., DataSource],
    approver: User,
    shipped_exactly_once: Callable[[Job, DataSource], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = orders_csv(4)
    started: dict[int, threading.Event] = {2: threading.Event()}
    count_ship_calls(monkeypatch, started)
    overlapped = []
    before_recording(
        monkeypatch, 1, lambda: overlapped.append(started[2].wait(timeout=WAIT_SECONDS))
    )
    job = approve_and_execute(source, approver)

    assert overlapped == [True]  # row 2's call was under way while row 1 was recorded
    shipped_exactly_once(job, source)


def test_a_crash_while_recording_leaves_both_rows_to_reconciliation(
    ups_sandbox: SandboxController,
    orders_csv: Callable[..., DataSource],
    approver: User,
    shipped_exactly_once: Callable[[Job, DataSource], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = orders_csv(6)

    def crash() -> None:
        raise SimulatedCrash("the worker died while recording row 3")

    before_recording(monkeypatch, 3, crash)
    with pytest.raises(SimulatedCrash):
        approve_and_execute(source, approver)
    job = Job.objects.get()
    monkeypatch.undo()

    # Row 4's call had started: it finished before the worker let go, unrecorded.
    assert len(ups_sandbox.ledger()) == 4
    lapse(job)
    assert job.status == "interrupted"
    assert statuses(job) == ["shipped", "shipped", "unknown", "unknown", "pending", "pending"]

    job = resume_to_end(job, approver)
    shipped_exactly_once(job, source)
    assert AuditEntry.objects.filter(job=job, action="row_reconciled").count() == 2


def test_losing_the_lease_while_recording_records_both_answers_late(
    ups_sandbox: SandboxController,
    orders_csv: Callable[..., DataSource],
    approver: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = orders_csv(5)
    job = previewed_job(source, approver)
    token = job_approve(job=job, acting_user=approver, in_background=False)
    before_recording(
        monkeypatch,
        2,
        lambda: Job.objects.filter(pk=job.pk).update(fencing_token=token + 100),
    )
    job_execute(job_id=job.pk, token=token, slice_seconds=math.inf)

    ledger = {entry["reference"]: entry["tracking_number"] for entry in ups_sandbox.ledger()}
    assert len(ledger) == 3  # rows 1 and 2, and row 3 whose call was under way
    assert statuses(job) == ["shipped", "shipped", "shipped", "pending", "pending"]
    for row in job.rows.filter(status="shipped"):
        assert row.tracking_number == ledger[row.reference]
    late = AuditEntry.objects.filter(job=job, action="row_shipped_late")
    assert sorted(late.values_list("row__row_number", flat=True)) == [2, 3]


def test_the_next_row_is_checked_against_its_source_during_the_call(
    orders_csv: Callable[..., DataSource],
    approver: User,
    shipped_exactly_once: Callable[[Job, DataSource], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = orders_csv(4)
    checked = {3: threading.Event()}
    real_check, real_ship = Executor._source_problem, UpsClient.ship
    calls = {"n": 0}
    row_3_checked_during_call_2 = []

    def source_problem(self: Executor, row: JobRow) -> str | None:
        checked.setdefault(row.row_number, threading.Event()).set()
        return real_check(self, row)

    def ship(self: UpsClient, *args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            row_3_checked_during_call_2.append(checked[3].wait(timeout=WAIT_SECONDS))
        return real_ship(self, *args, **kwargs)

    monkeypatch.setattr(Executor, "_source_problem", source_problem)
    monkeypatch.setattr(UpsClient, "ship", ship)
    job = approve_and_execute(source, approver)

    assert row_3_checked_during_call_2 == [True]  # only phase A is left between two calls
    shipped_exactly_once(job, source)


def test_a_failure_while_preparing_the_next_row_loses_no_tracking_number(
    ups_sandbox: SandboxController,
    orders_csv: Callable[..., DataSource],
    approver: User,
    shipped_exactly_once: Callable[[Job, DataSource], None],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    source = orders_csv(4)
    real_check = Executor._source_problem

    def source_problem(self: Executor, row: JobRow) -> str | None:
        if row.row_number == 3:
            raise OSError(5, "Input/output error")
        return real_check(self, row)

    monkeypatch.setattr(Executor, "_source_problem", source_problem)
    with pytest.raises(OSError, match="Input/output error"):
        approve_and_execute(source, approver)
    job = Job.objects.get()
    monkeypatch.undo()

    # Row 2's call was under way: it was waited for and its tracking number logged.
    row_2 = job.rows.get(row_number=2)
    (tracking,) = [
        e["tracking_number"] for e in ups_sandbox.ledger() if e["reference"] == row_2.reference
    ]
    assert statuses(job) == ["shipped", "in_flight", "pending", "pending"]
    assert f"shipped (tracking {tracking}, reference {row_2.reference}) but not recorded" in (
        caplog.text
    )

    lapse(job)
    job = resume_to_end(job, approver)
    shipped_exactly_once(job, source)
    assert AuditEntry.objects.filter(job=job, action="row_reconciled").count() == 1


def test_a_refused_row_stops_the_batch_without_preparing_the_next(
    ups_sandbox: SandboxController,
    orders_csv: Callable[..., DataSource],
    approver: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = orders_csv(3)
    ups_sandbox.set_fault("reject_address", endpoint="ship", postal_codes=["30303"])
    prepared = []
    real_check = Executor._source_problem

    def source_problem(self: Executor, row: JobRow) -> str | None:
        prepared.append(row.row_number)
        if row.row_number > 1:
            raise OSError(5, "Input/output error")  # it would, if it were read
        return real_check(self, row)

    monkeypatch.setattr(Executor, "_source_problem", source_problem)
    job = approve_and_execute(source, approver)

    job.refresh_from_db()
    assert prepared == [1]
    assert job.status == "failed"
    assert statuses(job) == ["failed", "pending", "pending"]
