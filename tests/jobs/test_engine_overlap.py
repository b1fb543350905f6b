"""Phase B of one row overlaps the next row's ship call; an interruption loses neither."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import DatabaseError
from django.db.models import F
from django.utils import timezone

from datasources.models import DataSource
from jobs.actors import system_actor
from jobs.models import AuditEntry, Job, JobRow
from jobs.services.approval import job_approve
from jobs.services.call_thread import CallThread
from jobs.services.execution import Executor, job_execute
from jobs.services.recording import ShipmentRecorder, Shipped
from jobs.services.recovery import jobs_mark_lapsed
from tests.fixtures.sources import ORDER_HEADERS, order_rows
from tests.fixtures.ups_sandbox import SandboxController
from tests.jobs.conftest import SimulatedCrash, previewed_job
from tests.jobs.test_engine_failures import assert_shipped_exactly_once, resume_to_end, statuses
from ups.client import UpsClient

pytestmark = pytest.mark.django_db

WAIT_SECONDS = 10


def count_ship_calls(
    monkeypatch: pytest.MonkeyPatch,
    started: dict[int, threading.Event],
    finished: dict[int, threading.Event] | None = None,
) -> None:
    """Wrap UpsClient.send_ship so that each call sets its events (by call number) as it starts
    and, in ``finished``, once UPS answered."""
    real_ship = UpsClient.send_ship
    calls = {"n": 0}

    def ship(self: UpsClient, *args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        number = calls["n"]
        started.setdefault(number, threading.Event()).set()
        try:
            return real_ship(self, *args, **kwargs)
        finally:
            if finished is not None:
                finished.setdefault(number, threading.Event()).set()

    monkeypatch.setattr(UpsClient, "send_ship", ship)


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


@dataclass
class Batch:
    """One test's job: its orders file, approver and sandbox, run here as a worker would."""

    sandbox: SandboxController
    make_source: Callable[..., DataSource]
    approver: User
    source_root: Path
    source: DataSource = field(init=False)
    job: Job = field(init=False)
    token: int = field(init=False)

    def approve(self, count: int, rows: list[list[str]] | None = None) -> Job:
        """Write ``count`` orders, then preview and approve a job from them (not run yet)."""
        self.source = self.make_source(count, rows=rows)
        self.job = previewed_job(self.source, self.approver)
        self.token = job_approve(job=self.job, acting_user=self.approver, in_background=False)
        return self.job

    def execute(self) -> Job:
        """Run the approved job to the end in this thread; return it as it is stored."""
        try:
            job_execute(job_id=self.job.pk, token=self.token, slice_seconds=math.inf)
        finally:
            self.job.refresh_from_db()
        return self.job

    def lapse(self) -> None:
        """Let the job's lease run out and the recovery schedule find it, as after a crash."""
        Job.objects.filter(pk=self.job.pk).update(
            lease_expires_at=timezone.now() - timedelta(seconds=1)
        )
        jobs_mark_lapsed(actor=system_actor("recovery schedule"))
        self.job.refresh_from_db()

    def resume_and_check(self) -> None:
        """Resume the job to the end; every row must then be shipped exactly once."""
        self.job = resume_to_end(self.job, self.approver)
        assert self.job.status == "completed"
        assert_shipped_exactly_once(self.job, self.sandbox, self.source, self.source_root)

    def unrecorded_log(self, row_number: int) -> str:
        """Return the log line of row ``row_number``: shipped (per the ledger), not recorded."""
        reference = self.job.rows.get(row_number=row_number).reference
        (entry,) = [e for e in self.sandbox.ledger() if e["reference"] == reference]
        tracking = entry["tracking_number"]
        return f"shipped (tracking {tracking}, reference {reference}) but not recorded"


@pytest.fixture
def batch(
    ups_sandbox: SandboxController,
    orders_csv: Callable[..., DataSource],
    approver: User,
    source_root: Path,
) -> Batch:
    return Batch(ups_sandbox, orders_csv, approver, source_root)


def take_over_before_recording(monkeypatch: pytest.MonkeyPatch, job: Job, row_number: int) -> None:
    """Let another worker take ``job`` just before phase B of row ``row_number``."""
    before_recording(
        monkeypatch,
        row_number,
        lambda: Job.objects.filter(pk=job.pk).update(fencing_token=F("fencing_token") + 100),
    )


def unreadable_from(monkeypatch: pytest.MonkeyPatch, row_number: int) -> list[int]:
    """Make the source unreadable from row ``row_number`` on; return the rows checked."""
    real_check = Executor._source_problem
    checked: list[int] = []

    def source_problem(self: Executor, row: JobRow) -> str | None:
        checked.append(row.row_number)
        if row.row_number >= row_number:
            raise OSError(5, "Input/output error")
        return real_check(self, row)

    monkeypatch.setattr(Executor, "_source_problem", source_problem)
    return checked


def test_the_next_ship_call_starts_before_the_row_is_recorded(
    batch: Batch, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch.approve(4)
    started: dict[int, threading.Event] = {2: threading.Event()}
    count_ship_calls(monkeypatch, started)
    overlapped = []
    before_recording(
        monkeypatch, 1, lambda: overlapped.append(started[2].wait(timeout=WAIT_SECONDS))
    )
    batch.execute()

    assert overlapped == [True]  # row 2's call was under way while row 1 was recorded
    assert batch.job.status == "completed"
    assert_shipped_exactly_once(batch.job, batch.sandbox, batch.source, batch.source_root)


@pytest.mark.parametrize(
    ("longest_wait", "recording_began"),
    [
        (WAIT_SECONDS, [False, False, True]),  # row 1 is recorded once row 2's request left
        (None, [False, True, True]),  # a request that cannot leave does not hold it back
    ],
)
def test_the_row_is_recorded_once_the_next_request_has_left(
    batch: Batch,
    monkeypatch: pytest.MonkeyPatch,
    longest_wait: float | None,
    recording_began: list[bool],
) -> None:
    if longest_wait is not None:
        monkeypatch.setattr("jobs.services.call_thread.SENT_WAIT_SECONDS", longest_wait)
    batch.approve(3)
    began = threading.Event()
    before_recording(monkeypatch, 1, began.set)
    real_ship = UpsClient.send_ship
    calls: list[bool] = []  # per ship call: had row 1's recording begun?

    def ship(self: UpsClient, *args: Any, **kwargs: Any) -> Any:
        # Row 2's request leaves only after a second (by default the executor
        # waits a tenth of a second for it); recording has every chance to begin.
        calls.append(began.wait(timeout=1 if len(calls) == 1 else 0))
        return real_ship(self, *args, **kwargs)

    monkeypatch.setattr(UpsClient, "send_ship", ship)
    job = batch.execute()

    assert calls == recording_began
    assert job.status == "completed"


def test_a_crash_while_recording_leaves_both_rows_to_reconciliation(
    batch: Batch, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch.approve(6)

    def crash() -> None:
        raise SimulatedCrash("the worker died while recording row 3")

    before_recording(monkeypatch, 3, crash)
    with pytest.raises(SimulatedCrash):
        batch.execute()
    monkeypatch.undo()

    # Row 4's call had started: it finished before the worker let go, unrecorded.
    assert len(batch.sandbox.ledger()) == 4
    batch.lapse()
    assert batch.job.status == "interrupted"
    assert statuses(batch.job) == ["shipped", "shipped", "unknown", "unknown", "pending", "pending"]

    batch.resume_and_check()
    assert AuditEntry.objects.filter(job=batch.job, action="row_reconciled").count() == 2


def test_losing_the_lease_while_recording_records_both_answers_late(
    batch: Batch, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = batch.approve(5)
    take_over_before_recording(monkeypatch, job, 2)
    batch.execute()

    ledger = {entry["reference"]: entry["tracking_number"] for entry in batch.sandbox.ledger()}
    assert len(ledger) == 3  # rows 1 and 2, and row 3 whose call was under way
    assert statuses(job) == ["shipped", "shipped", "shipped", "pending", "pending"]
    for row in job.rows.filter(status="shipped"):
        assert row.tracking_number == ledger[row.reference]
    late = AuditEntry.objects.filter(job=job, action="row_shipped_late")
    assert sorted(late.values_list("row__row_number", flat=True)) == [2, 3]


def test_the_next_row_is_checked_against_its_source_during_the_call(
    batch: Batch, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch.approve(4)
    checked = {3: threading.Event()}
    real_check, real_ship = Executor._source_problem, UpsClient.send_ship
    calls = {"n": 0}
    row_3_checked_during_call_2 = []

    def source_problem(self: Executor, row: JobRow) -> str | None:
        checked.setdefault(row.row_number, threading.Event()).set()
        return real_check(self, row)

    def ship(self: UpsClient, *args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        result = real_ship(self, *args, **kwargs)
        if calls["n"] == 2:  # UPS answered; the executor has not seen the answer yet
            row_3_checked_during_call_2.append(checked[3].wait(timeout=WAIT_SECONDS))
        return result

    monkeypatch.setattr(Executor, "_source_problem", source_problem)
    monkeypatch.setattr(UpsClient, "send_ship", ship)
    batch.execute()

    assert row_3_checked_during_call_2 == [True]  # only phase A is left between two calls
    assert batch.job.status == "completed"


def test_an_unreadable_source_stops_the_batch_after_recording_the_row_under_way(
    batch: Batch, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch.approve(4)
    unreadable_from(monkeypatch, 3)  # found while row 2's call is out
    job = batch.execute()
    monkeypatch.undo()

    assert (job.status, job.last_error_code) == ("failed", "source_unreadable")
    assert "Row 3 (key SO-00003) could not be checked" in job.last_error_message
    assert "Input/output error" in job.last_error_message
    assert statuses(job) == ["shipped", "shipped", "pending", "pending"]
    assert len(batch.sandbox.ledger()) == 2

    batch.resume_and_check()


def test_a_refusal_is_not_hidden_by_an_unreadable_next_row(
    batch: Batch, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = order_rows(3)
    rows[2][ORDER_HEADERS.index("zip")] = "30305"
    batch.approve(3, rows=rows)
    batch.sandbox.set_fault("reject_address", endpoint="ship", postal_codes=["30305"])
    batch.sandbox.set_fault("latency", ms=300)  # row 2's refusal comes after row 3 is read
    checked = unreadable_from(monkeypatch, 3)
    job = batch.execute()

    assert checked == [1, 2, 3]
    assert job.status == "failed"
    assert job.last_error_code != "source_unreadable"  # UPS's refusal, with its code
    assert statuses(job) == ["shipped", "failed", "pending"]


def test_a_refused_row_stops_the_batch_without_preparing_the_next(
    batch: Batch, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = order_rows(3)
    rows[2][ORDER_HEADERS.index("zip")] = "30305"  # row 2 (rows[0] is the header)
    batch.approve(3, rows=rows)
    batch.sandbox.set_fault("reject_address", endpoint="ship", postal_codes=["30305"])
    finished = {2: threading.Event()}
    count_ship_calls(monkeypatch, {}, finished)
    # Row 1 is recorded only once UPS has refused row 2.
    before_recording(monkeypatch, 1, lambda: finished[2].wait(timeout=WAIT_SECONDS))
    checked = unreadable_from(monkeypatch, 3)  # it would be, if it were read
    job = batch.execute()

    assert checked == [1, 2]
    assert job.status == "failed"
    assert statuses(job) == ["shipped", "failed", "pending"]


@pytest.mark.parametrize(
    "error",
    [DatabaseError("the database went away"), KeyboardInterrupt()],
    ids=["database error", "Ctrl-C"],
)
def test_a_failing_phase_a_still_records_the_row_shipped_before_it(
    batch: Batch, monkeypatch: pytest.MonkeyPatch, error: BaseException
) -> None:
    batch.approve(4)
    real_mark = Executor._mark_in_flight

    def mark_in_flight(self: Executor, row: JobRow) -> None:
        if row.row_number == 3:
            raise error
        real_mark(self, row)

    monkeypatch.setattr(Executor, "_mark_in_flight", mark_in_flight)
    with pytest.raises(type(error)):
        batch.execute()

    assert statuses(batch.job) == ["shipped", "shipped", "pending", "pending"]  # 2 not in flight
    assert len(batch.sandbox.ledger()) == 2


def test_a_late_record_that_fails_is_logged_with_its_tracking_number(
    batch: Batch, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    job = batch.approve(3)
    take_over_before_recording(monkeypatch, job, 1)

    def record_late(**_: Any) -> None:
        raise DatabaseError("the database went away")

    monkeypatch.setattr("jobs.services.recording.row_record_late_shipment", record_late)
    batch.execute()

    assert batch.unrecorded_log(1) in caplog.text


@pytest.mark.parametrize(("interrupted_row", "presses"), [(1, 1), (2, 1), (2, 3)])
def test_an_interruption_while_ups_works_still_records_its_answer(
    batch: Batch, monkeypatch: pytest.MonkeyPatch, interrupted_row: int, presses: int
) -> None:
    batch.approve(4)
    real_result = Future.result
    waits = {"n": 0}

    def result(self: Future[Any], timeout: float | None = None) -> Any:
        waits["n"] += 1
        # Ctrl-C while the executor waits for this row; further presses while it waits on.
        if interrupted_row <= waits["n"] < interrupted_row + presses:
            raise KeyboardInterrupt
        return real_result(self, timeout)

    monkeypatch.setattr(Future, "result", result)
    with pytest.raises(KeyboardInterrupt):
        batch.execute()
    monkeypatch.undo()

    assert len(batch.sandbox.ledger()) == interrupted_row
    shipped = ["shipped"] * interrupted_row
    assert statuses(batch.job) == shipped + ["pending"] * (4 - interrupted_row)
    batch.lapse()
    batch.resume_and_check()


def test_an_interruption_before_the_next_request_left_records_both_answers(
    batch: Batch, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch.approve(4)
    real_wait = CallThread.wait_until_sent
    waits = {"n": 0}

    def wait_until_sent(self: CallThread) -> None:
        waits["n"] += 1
        if waits["n"] == 2:  # row 2's request is on its way; row 1 is not recorded yet
            raise KeyboardInterrupt
        real_wait(self)

    monkeypatch.setattr(CallThread, "wait_until_sent", wait_until_sent)
    with pytest.raises(KeyboardInterrupt):
        batch.execute()
    monkeypatch.undo()

    assert len(batch.sandbox.ledger()) == 2
    assert statuses(batch.job) == ["shipped", "shipped", "pending", "pending"]
    batch.lapse()
    batch.resume_and_check()
