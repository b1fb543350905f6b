"""Find jobs whose worker stopped, and explain where a job stopped."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.contrib.humanize.templatetags.humanize import ordinal
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from jobs.actors import Actor
from jobs.models import Job, JobRow
from jobs.services.lease import Lease
from jobs.services.transitions import job_transition, rows_transition_bulk
from jobs.services.writeback import job_write_back_stopped
from jobs.states import JOB_RESUMABLE_STATUSES, JobStatus, RowStatus
from jobs.summaries import rated_so_far
from shipops.errors import DomainError

logger = logging.getLogger(__name__)
# The stop code of a row that changed in the source after the job was created.
SOURCE_CHANGED = "source_changed"
# The statuses a task holds a job in: the execute task, and the preview task.
TASK_HELD = (JobStatus.APPROVED, JobStatus.RUNNING, JobStatus.PREVIEWING)


def jobs_mark_lapsed(*, actor: Actor) -> list[Job]:
    """Mark running jobs whose lease lapsed ``interrupted`` (in-flight rows become unknown)."""
    now = timezone.now()
    lapsed = Job.objects.filter(
        status__in=[JobStatus.RUNNING, JobStatus.APPROVED, JobStatus.PREVIEWING],
        lease_expires_at__lt=now,
    )
    marked = []
    for job in lapsed:
        with transaction.atomic():
            locked = Job.objects.select_for_update().get(pk=job.pk)
            if locked.lease_expires_at is None or locked.lease_expires_at >= now:
                continue  # renewed meanwhile
            _mark_one(locked, actor)
        marked.append(locked)
        if locked.status == JobStatus.INTERRUPTED:
            # No worker runs it now: the tracking numbers its worker had not flushed yet
            # go into the source at once, not only when someone resumes or cancels.
            job_write_back_stopped(job=locked, actor=actor)
    return marked


def job_interrupt_on_error(*, lease: Lease, actor: Actor, error: Exception) -> bool:
    """Interrupt the job ``lease`` holds at once, naming the unexpected error that stopped it.

    What a lapsed lease would do a minute later (in-flight rows become
    unknown; a preview goes back to draft), with the error as the reason: a
    DomainError's own message, else only the error's type (its text could hold
    anything; the worker's log has it). Return False, writing nothing, if the
    job is no longer this worker's, is locked by someone else, or the database
    fails this too: the lease then lapses as after a crash. Never raises.
    """
    if isinstance(error, DomainError):
        code, message = error.code, error.message
    else:
        code = "worker_error"
        message = (
            f"An unexpected error ({type(error).__name__}) stopped the worker; "
            "its log has the details."
        )
    try:
        with transaction.atomic():
            # NOWAIT: a job another transaction holds is left to the lease, not waited for.
            job = Job.objects.select_for_update(nowait=True).get(pk=lease.job_id)
            if job.fencing_token != lease.token or job.status not in TASK_HELD:
                return False
            _mark_one(job, actor, code=code, message=message)
    except Exception:
        logger.exception("Job %s: could not record the error that stopped it.", lease.job_id)
        return False
    return True


def _mark_one(job: Job, actor: Actor, *, code: str = "", message: str = "") -> None:
    owner = job.lease_owner or "its worker"
    release = {"lease_owner": "", "lease_expires_at": None}
    if job.status == JobStatus.PREVIEWING:
        reason = f": {message}" if message else f" ({owner} stopped answering)."
        job_transition(
            job=job,
            to_status=JobStatus.DRAFT,
            actor=actor,
            action="preview_interrupted",
            message=f"The preview stopped{reason} Preview again.",
            changes={
                **release,
                **rated_so_far(job),
                "last_error_code": code or "preview_interrupted",
                "last_error_message": message or "The preview was interrupted.",
            },
        )
        return
    # Where it stopped, for the recovery banner: still true once that row is settled.
    in_flight = JobRow.objects.filter(job=job, status=RowStatus.IN_FLIGHT).order_by("row_number")
    where = {"last_error_row": row} if (row := in_flight.first()) else {}
    rows_transition_bulk(
        rows=JobRow.objects.filter(job=job, status=RowStatus.IN_FLIGHT),
        to_status=RowStatus.UNKNOWN,
        actor=actor,
        action="row_unknown",
        message="The worker stopped while this row's ship request may have been sent.",
    )
    job_transition(
        job=job,
        to_status=JobStatus.INTERRUPTED,
        actor=actor,
        action="job_interrupted",
        message=f"Interrupted: {message or f'{owner} stopped renewing its lease.'}",
        changes={
            **release,
            **where,
            "last_error_code": code or job.last_error_code or "worker_lost",
            "last_error_message": message
            or job.last_error_message
            or f"{owner} stopped answering (crash, kill or lost task).",
        },
    )


@dataclass(frozen=True)
class RecoverySummary:
    """What an operator reads before choosing resume, restart or cancel."""

    headline: str
    last_error: str
    shipped_rows: int
    unknown_rows: int


def _place(rows: QuerySet[JobRow], at: int, total: int) -> str:
    """Where row number ``at`` stands among a job's ``total`` rows: "row 3 of 5".

    Row numbers are the source's (data rows from 1), so that the operator
    finds the row in the file; a job's numbers skip the rows left out as
    shipped or filtered. Then the row's place in the job is named as well: "row 9, the
    3rd of its 5 rows".
    """
    position = rows.filter(row_number__lte=at).count()
    if position == at:
        return f"row {at} of {total}"
    return f"row {at}, the {ordinal(position)} of its {total} rows"


def job_recovery_summary(job: Job) -> RecoverySummary:
    """Describe where an interrupted or failed job stopped, in DESIGN.md's words.

    A job that can no longer be resumed (cancelled) is described without advice to resume.
    """
    rows = JobRow.objects.filter(job=job)
    total = job.row_count
    last = rows.filter(status=RowStatus.SHIPPED).order_by("-row_number").first()
    stopped = (
        rows.filter(status__in=[RowStatus.UNKNOWN, RowStatus.FAILED, RowStatus.IN_FLIGHT])
        .order_by("row_number")
        .first()
        or rows.filter(status=RowStatus.PENDING).order_by("row_number").first()
    )
    # The row it stopped at, as recorded then; a row settled since does not move it.
    # (The API reads the job with that row joined: no query then.)
    recorded = job.last_error_row.row_number if job.last_error_row is not None else None
    at = recorded or (stopped.row_number if stopped else (last.row_number if last else 0))
    remaining = rows.filter(
        status__in=[RowStatus.PENDING, RowStatus.UNKNOWN, RowStatus.FAILED, RowStatus.IN_FLIGHT]
    ).count()
    # Only a job that stopped "stopped": a running one is where it is now.
    verbs: dict[str, str] = {
        JobStatus.INTERRUPTED: "was interrupted at",
        JobStatus.CANCELLED: "was cancelled at",
        JobStatus.FAILED: "stopped at",
        JobStatus.RUNNING: "is running, now at",
    }
    verb = verbs.get(job.status) or f"is {JobStatus(job.status).label.lower()}, at"
    headline = f"{job} {verb} {_place(rows, at, total)}."
    if last is not None:
        headline += (
            f" Last: row {last.row_number} ({last.recipient}, tracking {last.tracking_number})."
        )
    if job.status == JobStatus.CANCELLED:  # nothing remains to ship: say what will not
        headline += f" {rows.filter(status=RowStatus.CANCELLED).count()} not shipped (cancelled)."
    else:
        headline += f" {remaining} remaining."
    # Advice to resume holds only while the job can be resumed: a cancelled job's error is
    # said as it was, without it.
    resumable = job.status in JOB_RESUMABLE_STATUSES
    last_error = ""
    if job.last_error_message:
        what = "Crashed" if job.status == JobStatus.INTERRUPTED else "Stopped"
        last_error = f"{what} at row {at} due to: {job.last_error_message.rstrip('.')}."
        if resumable and job.last_error_advice:
            last_error += f" {job.last_error_advice}"
        goes_on = resumable and job.last_error_code != SOURCE_CHANGED  # it would stop again
        if stopped is not None and stopped.status != RowStatus.UNKNOWN and goes_on:
            again = "retry" if stopped.row_number == at else "go on from"
            last_error += f" Resume will {again} row {stopped.row_number}."
    unknown = rows.filter(status=RowStatus.UNKNOWN).count()
    if unknown:
        one = unknown == 1
        outcome = f"{unknown} row{'' if one else 's'} {'has' if one else 'have'} an unknown outcome"
        decide = (
            "a person decides whether the parcel shipped, on the job page or with "
            "recover_jobs --decide-row"
        )
        if resumable:
            last_error += (
                f" {outcome}: resume looks {'it' if one else 'them'} up at UPS by reference "
                f"first; where UPS has no shipment, {decide} (resume is refused until then)."
            )
        else:
            last_error += f" {outcome}: {decide}."
    return RecoverySummary(
        headline=headline,
        last_error=last_error.strip(),
        shipped_rows=rows.filter(status=RowStatus.SHIPPED).count(),
        unknown_rows=unknown,
    )
