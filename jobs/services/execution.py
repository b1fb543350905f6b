"""The executor: ship a job's rows strictly in order, phase A, ship call, phase B.

Phase A (a transaction) marks the row in flight; the ship call runs outside
any transaction with the row's unique reference; phase B (a transaction,
``jobs.services.recording``) stores the tracking number, label and cost.
Phase B of one row runs while the next row's ship call is under way
(``CallThread``), and so does reading the row after that, checking it
against its source and building its request: between two calls there is
only phase A. The calls stay one after another, each sent only after the
previous one succeeded, and at a crash at most two rows are in flight.
Every transaction first checks the fencing token (``lease_renew``), so a
worker that lost the job cannot write. The first UPS refusal, or a ship
call whose outcome is unknown, stops the batch. A batch runs in slices: at
the end of one it hands the lease to a newly queued task, so no task
outlives django-q2's timeout.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import suppress
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from datasources.adapters import get_adapter
from jobs.actors import SystemActor, system_actor
from jobs.models import Job, JobRow
from jobs.queue import enqueue_execution
from jobs.services.call_thread import CallThread
from jobs.services.in_flight import row_mark_in_flight
from jobs.services.lease import Lease, LeaseLost, lease_claim, lease_hand_over, lease_renew
from jobs.services.recording import ShipmentRecorder, Shipped
from jobs.services.recovery import SOURCE_CHANGED, job_interrupt_on_error
from jobs.services.transitions import job_transition, row_transition
from jobs.services.writeback import job_outcome, unwritten_rows, write_back_rows
from jobs.shipping import ship_from_for, shipment_request
from jobs.states import JobStatus, RowStatus
from shipops.errors import DomainError
from ups.client import PreparedShip, get_client
from ups.errors import (
    UpsAuthError,
    UpsDefinitiveError,
    UpsError,
    UpsOutcomeUnknownError,
)
from ups.types import ShipResult

logger = logging.getLogger(__name__)

EXECUTABLE = frozenset({JobStatus.APPROVED, JobStatus.RUNNING})
RowCallback = Callable[[JobRow], None]
ROW_PAGE = 100  # pending rows read per query


@dataclass(frozen=True)
class NextRow:
    """The next row to ship, with its request, or why the source does not allow it now."""

    row: JobRow
    ship: PreparedShip | None  # None: the batch stops before this row
    problem: str = ""
    code: str = ""
    advice: str = ""


def job_execute(
    *,
    job_id: int,
    token: int,
    slice_seconds: float | None = None,
    on_row: RowCallback | None = None,
) -> None:
    """Run one slice of a job's execution; the body of the execute task.

    ``slice_seconds`` defaults to SHIPOPS_EXECUTOR_SLICE_SECONDS (``math.inf``
    runs to the end, as ``run_job`` does); ``on_row`` is called after each row.
    """
    actor = system_actor("worker")
    claimed = lease_claim(job_id=job_id, token=token, actor=actor, statuses=EXECUTABLE)
    if claimed is None:
        logger.info("Job %s is held by another worker or not runnable; this task exits.", job_id)
        return
    job, lease = claimed
    try:
        slice_length = (
            settings.SHIPOPS_EXECUTOR_SLICE_SECONDS if slice_seconds is None else slice_seconds
        )
        Executor(job=job, lease=lease, actor=actor, slice_seconds=slice_length, on_row=on_row).run()
    except LeaseLost:
        logger.warning("Job %s: lease lost to another worker; stopped without writing.", job_id)
    except Exception as error:
        # Not a UPS error or a source problem (those stop the batch with their reason):
        # a bug or a database failure. Logged first, in case interrupting the job hangs
        # too; the operator sees it now, not when the lease lapses.
        logger.exception("Job %s: the worker stopped on an unexpected error.", job_id)
        job_interrupt_on_error(lease=lease, actor=actor, error=error)
        raise


# Resume sends a failed row again as it was read: a fix in the source changes its
# checksum, and a changed row is never shipped under an approval given for the old one.
DEFINITIVE_ADVICE = (
    "Resume sends the row again as it is. To change it, fix it in the source, then cancel this "
    "job and create a new one from the source: rows already shipped are left out."
)
# A row that changed in the source would stop a resume again at the same place.
SOURCE_CHANGED_ADVICE = (
    "Cancel this job and create a new one from the source: rows already shipped are left out "
    "automatically."
)


class Executor:
    """One worker's slice of one job."""

    def __init__(
        self,
        *,
        job: Job,
        lease: Lease,
        actor: SystemActor,
        slice_seconds: float,
        on_row: RowCallback | None = None,
    ):
        self.job = job
        self.lease = lease
        self.actor = actor
        self.adapter = get_adapter(job.data_source)
        self.recorder = ShipmentRecorder(job=job, lease=lease, actor=actor, adapter=self.adapter)
        self.client = get_client()
        self.calls = CallThread()  # the next row's ship call, while this row is recorded
        self.ship_from = ship_from_for(job.data_source)
        self.deadline = time.monotonic() + slice_seconds
        self.on_row = on_row
        self.upcoming: list[JobRow] = []  # the page being shipped, next row last
        self.last_number = 0

    def run(self) -> None:
        if self.job.status == JobStatus.APPROVED:
            self._start()
        with self.calls:
            self._ship_rows()

    def _ship_rows(self) -> None:
        # ``unrecorded``: the row UPS just shipped, recorded (phase B) while the
        # next row's ship call is on its way. Calls never overlap each other.
        # ``upcoming``: the next row, checked and made into a request during the
        # previous call, so that only phase A stands between two calls.
        unrecorded: Shipped | None = None
        upcoming = self._prepare_next()
        while upcoming is not None:
            if unrecorded is not None and time.monotonic() > self.deadline:
                # Every slice ships at least one row, so a chain always moves on.
                self._settle(unrecorded)
                self._hand_over()
                return
            if upcoming.ship is None:
                if unrecorded is not None:
                    self._settle(unrecorded)
                self._stop(
                    upcoming.row,
                    RowStatus.PENDING,
                    upcoming.code,
                    upcoming.problem,
                    advice=upcoming.advice,
                )
                return
            outcome = self._ship_one(upcoming.row, upcoming.ship, unrecorded)
            if outcome is None:
                return
            unrecorded, upcoming = outcome
        if unrecorded is not None:
            self._settle(unrecorded)
        self._finish()

    def _start(self) -> None:
        with transaction.atomic():
            job_transition(
                job=self.job,
                to_status=JobStatus.RUNNING,
                actor=self.actor,
                action="job_started",
                message=f"Shipping started on {self.actor.label}.",
                changes={"started_at": self.job.started_at or timezone.now()},
            )
            lease_renew(self.lease)

    def _next_row(self) -> JobRow | None:
        # Rows are read a page at a time, not one query per row; phase A's
        # compare-and-set still checks that each one is pending when it starts.
        if not self.upcoming:
            page = JobRow.objects.filter(
                job_id=self.job.pk, status=RowStatus.PENDING, row_number__gt=self.last_number
            ).order_by("row_number")[:ROW_PAGE]
            self.upcoming = list(page)[::-1]
        if not self.upcoming:
            return None
        row = self.upcoming.pop()
        self.last_number = row.row_number
        return row

    def _prepare_next(self) -> NextRow | None:
        """Read the next pending row, check it against its source and build its request."""
        row = self._next_row()
        if row is None:
            return None
        try:
            if (problem := self._source_problem(row)) is not None:
                return NextRow(row, None, problem, SOURCE_CHANGED, SOURCE_CHANGED_ADVICE)
            request = shipment_request(row=row, ship_from=self.ship_from)
            return NextRow(row, self.client.prepare_ship(request))
        except (DomainError, OSError) as error:
            # Stop cleanly with the reason, after the row under way is recorded.
            reason = getattr(error, "message", None) or str(error)
            problem = (
                f"Row {row.row_number} (key {row.source_key}) could not be checked against the "
                f"source, so it was not shipped: {reason}"
            )
            return NextRow(
                row, None, problem, "source_unreadable", "Resume once the source can be read."
            )

    def _ship_one(
        self, row: JobRow, ship: PreparedShip, unrecorded: Shipped | None
    ) -> tuple[Shipped, NextRow | None] | None:
        """Ship ``row``, recording ``unrecorded`` and preparing the next row meanwhile.

        Return the shipped row and the next one, or None when the batch stops here.
        """
        try:
            marked_at = time.monotonic()  # before phase A: the send deadline starts here
            self._mark_in_flight(row)
            # Even with no row to record meanwhile, the call runs on the call thread:
            # a Ctrl-C then interrupts only the wait, never the request itself.
            call = self.calls.start(partial(self.client.send_ship, ship, marked_at=marked_at))
        except BaseException as error:
            # Phase A failed, the job was taken, or Ctrl-C: the previous row's answer
            # is recorded all the same (late if the job was taken meanwhile).
            if unrecorded is not None:
                self._keep(unrecorded, error)
            raise
        try:
            upcoming = self._while_calling(unrecorded, row, call)
            result = self._answer(row, call)
        except UpsError as error:
            self._stop_on_ups_error(row, error)
            if self.on_row is not None:
                self.on_row(row)
            return None
        logger.info(
            "UPS shipped job %s row %s: tracking %s",
            self.job.pk,
            row.row_number,
            result.tracking_number,
            extra={"job_id": self.job.pk, "reference": row.reference},
        )
        return Shipped(row, result), upcoming

    def _mark_in_flight(self, row: JobRow) -> None:
        """Phase A: from here on, the row may exist at UPS."""
        row_mark_in_flight(
            row=row,
            lease=self.lease,
            actor=self.actor,
            message=f"Sending the ship request (reference {row.reference}).",
        )

    def _while_calling(
        self, unrecorded: Shipped | None, row: JobRow, call: Future[ShipResult]
    ) -> NextRow | None:
        """Record ``unrecorded`` and prepare the next row while ``row``'s ship call runs.

        Whatever goes wrong here, no answer UPS gave is left behind: ``unrecorded``
        (if the recorder did not have it yet) and the answer to ``row``, waited
        for, are recorded if the job was taken meanwhile (late) or the operator
        pressed Ctrl-C, else logged for reconciliation.
        """
        in_hand = unrecorded  # shipped by UPS, not yet handed to the recorder
        try:
            self.calls.wait_until_sent()  # our own work must not hold the request back
            if unrecorded is not None:
                in_hand = None  # from here on the recorder answers for it
                self._settle(unrecorded)
            if call.done() and call.exception() is not None:
                return None  # the batch stops at this row: nothing to prepare
            return self._prepare_next()
        except BaseException as error:
            if in_hand is not None:
                self._keep(in_hand, error)
            try:
                result = _final_answer(call)
            except UpsError:
                raise error from None  # the row stays in flight: reconciliation settles it
            self._keep(Shipped(row, result), error)
            raise

    def _keep(self, shipped: Shipped, error: BaseException) -> None:
        """Hold on to a shipment UPS made, although this slice stops with ``error``.

        After an error the process lives through (anything but SystemExit and
        the like), it is recorded as usual, late if the job was taken meanwhile,
        label and cost included; if the database fails that too, ``record``
        logs it for reconciliation by reference, as it is logged otherwise.
        """
        if isinstance(error, Exception | KeyboardInterrupt):
            with suppress(Exception):
                self.recorder.record(shipped)
        else:
            self.recorder.say_unrecorded(shipped)

    def _answer(self, row: JobRow, call: Future[ShipResult]) -> ShipResult:
        """Wait for UPS's answer to ``row``; after Ctrl-C, wait on and record it before going."""
        try:
            return call.result()
        except KeyboardInterrupt:
            # The request has left: its answer is recorded (if UPS refused or
            # never answered, the row stays in flight for reconciliation).
            with suppress(Exception):
                self.recorder.record(Shipped(row, _final_answer(call)))
            raise

    def _settle(self, shipped: Shipped) -> None:
        self.recorder.record(shipped)
        if self.on_row is not None:
            self.on_row(shipped.row)

    def _source_problem(self, row: JobRow) -> str | None:
        current = self.adapter.current_checksums([row.source_key]).get(row.source_key)
        if current == row.source_checksum:
            return None
        change = "is no longer in" if current is None else "changed in"
        return (
            f"Row {row.row_number} (key {row.source_key}) {change} the source after the job "
            f"was created, so it was not shipped."
        )

    def _stop_on_ups_error(self, row: JobRow, error: UpsError) -> None:
        # What resume does next (retry this row, look an unknown one up at UPS first)
        # the recovery summary says from the rows as they are then; the advice here is
        # what only this error tells.
        message, advice = f"Row {row.row_number}: {error.message}", ""
        if isinstance(error, UpsOutcomeUnknownError):
            status = RowStatus.UNKNOWN  # its message says the shipment may exist (ups/classify)
        elif isinstance(error, UpsDefinitiveError):
            status, advice = RowStatus.FAILED, DEFINITIVE_ADVICE
        elif isinstance(error, UpsAuthError):
            status, advice = RowStatus.PENDING, "Check the UPS credentials, then resume."
        else:  # UpsTransientError: the request never reached UPS.
            status = RowStatus.PENDING
        self._stop(row, status, error.code, message, advice=advice)

    def _stop(
        self, row: JobRow, row_status: str, code: str, message: str, *, advice: str = ""
    ) -> None:
        """Fail fast: record the row's outcome and fail the job; earlier rows stay shipped.

        ``advice`` (what to do about it) is kept apart from ``message`` (the error):
        it is shown only while the job can still be resumed.
        """
        self.recorder.buffer.flush()
        with transaction.atomic():
            lease_renew(self.lease)
            if row.status != row_status:
                row_transition(
                    row=row,
                    to_status=row_status,
                    actor=self.actor,
                    action=f"row_{row_status}",
                    message=message,
                    changes={"error_code": code, "error_message": message},
                )
            if row_status == RowStatus.FAILED:
                Job.objects.filter(pk=self.job.pk).update(failed_count=F("failed_count") + 1)
            job_transition(
                job=self.job,
                to_status=JobStatus.FAILED,
                actor=self.actor,
                action="job_failed",
                message=f"Stopped at row {row.row_number}: {message} {advice}".strip(),
                changes={
                    "last_error_code": code,
                    "last_error_message": message,
                    "last_error_advice": advice,
                    "last_error_row": row,
                    "lease_owner": "",
                    "lease_expires_at": None,
                },
            )

    def _hand_over(self) -> None:
        self.recorder.buffer.flush()
        with transaction.atomic():
            lease_renew(self.lease)
            job = Job.objects.select_for_update().get(pk=self.job.pk)
            token = lease_hand_over(job=job, actor=self.actor)
            enqueue_execution(job.pk, token, actor=self.actor)

    def _finish(self) -> None:
        self.recorder.buffer.flush()
        retry = unwritten_rows(self.job)
        if retry:
            write_back_rows(
                adapter=self.adapter,
                updates=retry,
                key_column=self.job.key_column,
                lease=self.lease,
                actor=self.actor,
            )
        with transaction.atomic():
            lease_renew(self.lease)
            outcome = job_outcome(self.job)
            job_transition(
                job=self.job,
                to_status=outcome["status"],
                actor=self.actor,
                action="job_finished",
                message=outcome["message"],
                changes={
                    "writeback_failed_count": outcome["writeback_failed"],
                    "finished_at": timezone.now(),
                    "lease_owner": "",
                    "lease_expires_at": None,
                },
                data={
                    "shipped": outcome["shipped"],
                    "writeback_failed": outcome["writeback_failed"],
                },
            )


def _final_answer(call: Future[ShipResult]) -> ShipResult:
    """Wait for the answer to a request that has left; a further Ctrl-C does not end the wait.

    The process could not end before the call anyway (its thread is joined at
    exit), and UPS_CONNECT_TIMEOUT + UPS_READ_TIMEOUT bound the call.
    """
    while True:
        try:
            return call.result()
        except KeyboardInterrupt:
            continue
