"""Undo a restart that stopped: its new job cancelled, the rows it voided shipped again.

The restart (``restart.py``) voids shipments at UPS and cancels the old job in
separate steps. When it stops between them (UPS refuses a void, someone took
a job once a hold lapsed, the approval is refused, Ctrl-C, a database
failure), no order may be left with only a voided shipment and nobody told:
the rows voided are made pending again on the old job, for Resume to ship,
unless another job ships them.
"""

from __future__ import annotations

from django.db import transaction

from jobs.actors import Actor
from jobs.models import Job, JobRow
from jobs.services.cancel import job_cancel
from jobs.services.restart_holds import HeldJobs
from jobs.services.resume import RESUMABLE
from jobs.services.transitions import row_transition, row_writeback_transition
from jobs.states import JobStatus, RowStatus, WritebackStatus
from jobs.summaries import number_ranges
from shipops.errors import DomainError

OTHER_JOB_FIRST = "rows_in_another_job"  # the approval's refusal: another job must finish first
# A restart's new job in these is cancelled when the restart stops (if someone else previewed
# it once the restart's hold lapsed, too); an approved one ships, and is left alone.
NOT_APPROVED = (JobStatus.DRAFT, JobStatus.PREVIEWING, JobStatus.PREVIEWED)


def restart_undo(
    held: HeldJobs, *, confirmed: set[int], actor: Actor, error: DomainError
) -> DomainError:
    """Undo a restart that stopped with ``error``; return the error to show, saying what was done.

    ``confirmed``: the old job's rows that were shipped when the restart began;
    those voided now, this restart voided. The new job is cancelled unless
    someone else approved it once its hold lapsed: then it ships those orders,
    voided rows included, and is left alone. Else the rows voided go back to
    pending on the old job if it is still stopped (Resume ships them), or stay
    voided and the message says so.
    """
    job, new_job = held.job, held.new_job
    voided = list(JobRow.objects.filter(job=job, pk__in=confirmed, status=RowStatus.VOIDED))
    reason = f"Restart stopped: {error.message}"
    job_cancel(job=new_job, actor=actor, reason=reason, hold=held.new_hold, only_from=NOT_APPROVED)
    message = error.message + _new_job_fate(job, new_job, error)
    restored: list[int] = []
    if voided:
        numbers = number_ranges(sorted(row.row_number for row in voided))
        status = _status_of(job)
        if _status_of(new_job) != JobStatus.CANCELLED:
            message += _shipped_by_new_job(voided, new_job)
        elif status not in RESUMABLE:
            # Resumed meanwhile: its worker has passed these rows, and a finished job never
            # resumes. Pending rows there would never ship; voided, they say what happened.
            message += (
                f" UPS voided the shipments of row(s) {numbers}, and {job} is "
                f"{JobStatus(status).label.lower()} now, so they stay voided: ship those orders "
                f"with a new job once {job} has finished (it takes them, although the source "
                "still shows their voided tracking numbers)."
            )
        else:
            for row in voided:
                row_restore_voided(row=row, actor=actor)
            restored = [row.row_number for row in voided]
            message += (
                f" UPS voided the shipments of row(s) {numbers}; they are pending on {job} "
                "again, so Resume ships them again (writing their new tracking numbers over the "
                "voided ones in the source)."
            )
    return DomainError(error.code, message, details={**error.details, "restored_rows": restored})


def _new_job_fate(job: Job, new_job: Job, error: DomainError) -> str:
    if _status_of(new_job) == JobStatus.CANCELLED:
        if error.code == OTHER_JOB_FIRST:
            return f" {new_job} was cancelled; once that is done, restart {job} again."
        return f" {new_job} was cancelled."
    said = (
        f" {new_job} was approved by someone else meanwhile, so it was left as it is: it ships "
        "the orders it holds again, a second time for those whose shipments were not voided."
    )
    if _status_of(job) in RESUMABLE:
        said += f" Cancel {job} rather than resume it."
    return said


def _shipped_by_new_job(voided: list[JobRow], new_job: Job) -> str:
    """Say which voided orders the new job (approved by someone else) ships again, and which not."""
    keys = {row.source_key for row in voided}
    kept = set(
        JobRow.objects.filter(job=new_job, source_key__in=keys)
        .exclude(status__in=[RowStatus.SKIPPED, RowStatus.CANCELLED])
        .values_list("source_key", flat=True)
    )
    shipped = number_ranges(sorted(row.row_number for row in voided if row.source_key in kept))
    left = number_ranges(sorted(row.row_number for row in voided if row.source_key not in kept))
    said = (
        f" UPS voided the shipments of row(s) {shipped}; {new_job} ships them again."
        if kept
        else ""
    )
    if left:
        said += (
            f" UPS voided the shipments of row(s) {left}{' too' if kept else ''}, and {new_job} "
            "leaves them out: "
            "they stay voided, so ship those orders with a new job once both jobs are done."
        )
    return said


def _status_of(job: Job) -> str:
    return str(Job.objects.filter(pk=job.pk).values_list("status", flat=True).get())


def row_restore_voided(*, row: JobRow, actor: Actor) -> JobRow:
    """Make a row whose shipment a stopped restart voided pending again, for resume to ship."""
    voided_tracking = row.tracking_number  # its cost left the job's total when it was voided
    with transaction.atomic():
        row_transition(
            row=row,
            to_status=RowStatus.PENDING,
            actor=actor,
            action="row_void_restored",
            message=(
                f"UPS voided this row's shipment (tracking {voided_tracking}) during a restart "
                "that stopped; the row is pending again, so resume ships it again."
            ),
            changes={
                "tracking_number": "",
                "shipment_id": "",
                "shipped_at": None,
                "actual_cost_cents": None,
                "label": "",
                "label_format": "",
            },
            data={"voided_tracking_number": voided_tracking, "shipment_id": row.shipment_id},
        )
        if row.writeback_status == WritebackStatus.WRITTEN:
            # The source holds the voided tracking number until the new one replaces it.
            row_writeback_transition(
                row=row,
                to_status=WritebackStatus.PENDING,
                actor=actor,
                message=(
                    f"The source still holds the voided tracking number {voided_tracking}; "
                    "the row's next shipment writes over it."
                ),
            )
    return row
