"""Cancel a job (shipped rows are kept) and void its shipments at UPS."""

from __future__ import annotations

from collections.abc import Callable, Collection

from django.db import transaction
from django.db.models import F

from jobs.actors import Actor
from jobs.models import Job, JobRow
from jobs.services.lease import Lease
from jobs.services.restart_holds import refuse_while_restarting
from jobs.services.transitions import job_transition, row_transition, rows_transition_bulk
from jobs.services.writeback import job_write_back_stopped
from jobs.states import JobStatus, RowStatus, job_statuses_leading_to
from shipops.errors import DomainError
from shipops.words import counted
from ups.client import get_client
from ups.errors import UpsError

# The statuses a job may be cancelled from (jobs.states owns the life cycle).
CANCELLABLE = job_statuses_leading_to(JobStatus.CANCELLED)


def job_cancel_refusal(job: Job, *, hold: Lease | None = None) -> DomainError | None:
    """Return why ``job`` cannot be cancelled now, or None; ``job_cancel`` refuses with it.

    ``hold``: the restart that may cancel ``job`` although it holds it.
    """
    try:
        refuse_while_restarting(job, hold=hold)
    except DomainError as error:
        return error
    if job.status not in CANCELLABLE:
        return DomainError(
            "not_cancellable", f"{job} is already {job.get_status_display().lower()}."
        )
    return None


def job_cancel(
    *,
    job: Job,
    actor: Actor,
    reason: str = "",
    hold: Lease | None = None,
    only_from: Collection[str] | None = None,
) -> Job:
    """Cancel ``job``: pending rows are cancelled, shipped rows kept, in-flight rows unknown.

    Once the cancel has committed, the shipped rows' tracking numbers that are
    not in the source yet are written there: a worker stopped by the cancel,
    or killed before it, took its unflushed write-back buffer with it. A
    write-back failure is recorded on the rows ("Retry write-back"), never raised.
    Refused while a restart holds the job, unless it is that restart (``hold``).
    With ``only_from``, a job (locked) in another status is left as it is.
    """
    job_cancel_records(job=job, actor=actor, reason=reason, hold=hold, only_from=only_from)
    job_write_back_stopped(job=job, actor=actor)
    job.refresh_from_db()
    return job


def job_cancel_records(
    *,
    job: Job,
    actor: Actor,
    reason: str = "",
    hold: Lease | None = None,
    only_from: Collection[str] | None = None,
) -> None:
    """Cancel ``job`` in the database only; the caller runs job_write_back_stopped after commit.

    Refused while a restart holds the job, unless it is that restart (``hold``) cancelling it.
    """
    with transaction.atomic():
        locked = Job.objects.select_for_update().get(pk=job.pk)
        refuse_while_restarting(locked, hold=hold)
        if only_from is not None and locked.status not in only_from:
            return
        if (refusal := job_cancel_refusal(locked, hold=hold)) is not None:
            raise refusal
        failed = JobRow.objects.filter(job=locked, status=RowStatus.FAILED).count()
        # Skipped rows (excluded, or shipped by another job) stay skipped: they say why.
        cancelled = rows_transition_bulk(
            rows=JobRow.objects.filter(
                job=locked, status__in=[RowStatus.PENDING, RowStatus.FAILED]
            ),
            to_status=RowStatus.CANCELLED,
            actor=actor,
            action="row_cancelled",
            message="Cancelled with its job.",
        )
        # A ship request may be on its way right now: its outcome is for reconciliation.
        unknown = rows_transition_bulk(
            rows=JobRow.objects.filter(job=locked, status=RowStatus.IN_FLIGHT),
            to_status=RowStatus.UNKNOWN,
            actor=actor,
            action="row_unknown",
            message="The job was cancelled while this row's ship request was on its way.",
        )
        message = (
            f"Cancelled: {counted(cancelled, 'row')} will not ship; "
            f"{counted(locked.shipped_count, 'shipped row')} "
            f"{'is' if locked.shipped_count == 1 else 'are'} kept."
        )
        if unknown:
            message += (
                f" {counted(unknown, 'row')} {'was' if unknown == 1 else 'were'} being shipped: "
                "check them under “unknown”."
            )
        job_transition(
            job=locked,
            to_status=JobStatus.CANCELLED,
            actor=actor,
            action="job_cancelled",
            message=f"{message} {reason}".strip(),
            # Its failed rows are cancelled now: none is failed any more.
            changes={
                "lease_owner": "",
                "lease_expires_at": None,
                "failed_count": max(0, locked.failed_count - failed),
            },
        )


def job_void_shipped(
    *,
    job: Job,
    actor: Actor,
    hold_lost: Callable[[], str],
    row_ids: Collection[int] | None = None,
) -> list[JobRow]:
    """Void ``job``'s shipped rows (those of ``row_ids`` only, if given) at UPS; return them.

    Before each row, ``hold_lost()`` renews the restart's holds; once it says a
    job was taken (a hold lapsed and someone acted on it), voiding stops
    before that row.
    Stops at the first shipment UPS will not void too, keeping those already
    voided; the DomainError's ``details["voided_rows"]`` then names them (row ids).
    """
    client = get_client()
    voided: list[JobRow] = []
    rows = JobRow.objects.filter(job=job, status=RowStatus.SHIPPED)
    if row_ids is not None:
        rows = rows.filter(pk__in=list(row_ids))
    for row in rows.order_by("row_number"):
        if lost := hold_lost():
            raise _void_error(
                "void_stopped",
                f"Voiding the shipments of {job} stopped before row {row.row_number}: {lost}.",
                voided,
            )
        try:
            result = client.void(
                row.shipment_id or row.tracking_number, tracking_numbers=(row.tracking_number,)
            )
        except UpsError as error:
            raise _void_error(
                "void_failed",
                f"UPS would not void row {row.row_number} (tracking {row.tracking_number}): "
                f"{error.message}",
                voided,
            ) from error
        if not result.voided:
            raise _void_error(
                "void_failed",
                f"UPS did not void row {row.row_number} (tracking {row.tracking_number}): "
                f"{result.description}.",
                voided,
            )
        with transaction.atomic():
            row_transition(
                row=row,
                to_status=RowStatus.VOIDED,
                actor=actor,
                action="row_voided",
                message=f"Voided at UPS (tracking {row.tracking_number} kept for the record).",
            )
            # Voided: not shipped, and UPS does not charge it.
            Job.objects.filter(pk=job.pk).update(
                shipped_count=F("shipped_count") - 1,
                actual_cost_cents=F("actual_cost_cents") - (row.actual_cost_cents or 0),
            )
        voided.append(row)
    return voided


def _void_error(code: str, message: str, voided: list[JobRow]) -> DomainError:
    return DomainError(
        code,
        f"{message} {counted(len(voided), 'shipment')} "
        f"{'was' if len(voided) == 1 else 'were'} voided before it.",
        details={"voided_rows": [row.pk for row in voided]},
    )
