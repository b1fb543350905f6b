"""Restart a stopped job: cancel it and ship all of its rows again as a new job."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F

from jobs.actors import Actor
from jobs.models import Job, JobRow
from jobs.services.approval import job_approve, require_approve_permission
from jobs.services.cancel import job_cancel, job_cancel_records, job_void_shipped
from jobs.services.creation import job_create
from jobs.services.estimate import job_copy_preview
from jobs.services.lease import Lease, lease_release
from jobs.services.restart_holds import HeldJobs, restart_hold, restart_release
from jobs.services.resume import RESUMABLE
from jobs.services.transitions import row_transition, row_writeback_transition
from jobs.services.writeback import job_write_back_stopped
from jobs.states import JobStatus, RowStatus, WritebackStatus
from jobs.summaries import number_ranges
from shipops.errors import DomainError

OTHER_JOB_FIRST = "rows_in_another_job"  # the approval's refusal: another job must finish first
# A restart's new job in these is cancelled when the restart stops (if someone else previewed
# it once the restart's hold lapsed, too); an approved one ships, and is left alone.
NOT_APPROVED = (JobStatus.DRAFT, JobStatus.PREVIEWING, JobStatus.PREVIEWED)


def job_restart_warning(job: Job) -> str:
    """Return the duplicate warning an operator must confirm before a restart."""
    numbers = _row_numbers(job, RowStatus.SHIPPED)
    if not numbers:
        return ""
    if len(numbers) == 1:
        return (
            f"Row {numbers[0]} already has a tracking number (1 shipment). "
            "Restarting will create a duplicate shipment."
        )
    return (
        f"Rows {number_ranges(numbers)} already have tracking numbers ({len(numbers)} "
        "shipments). Restarting will create duplicate shipments."
    )


def job_restart_refusal(job: Job) -> DomainError | None:
    """Return why ``job`` cannot be restarted now, whatever the operator chooses, or None.

    Only interrupted or failed jobs restart, and none while rows may exist at
    UPS unrecorded (*unknown*): a restart would ship them again, and voiding
    cannot reach them (no shipment number is known).
    """
    if job.status not in RESUMABLE:
        return DomainError(
            "not_restartable",
            f"{job} cannot be restarted while it is {job.get_status_display().lower()}.",
        )
    numbers = _row_numbers(job, RowStatus.UNKNOWN)
    if not numbers:
        return None
    return DomainError(
        "restart_unknown_rows",
        f"Rows with an unknown outcome: {number_ranges(numbers)}. UPS may already have "
        "shipped them, and a restart would ship them again. Resume first (it looks them up "
        "at UPS by reference), or decide them on the job page; then restart.",
        details={"rows": numbers},
    )


def job_restart_check(job: Job) -> None:
    """Raise the DomainError of :func:`job_restart_refusal`, if there is one."""
    refusal = job_restart_refusal(job)
    if refusal is not None:
        raise refusal


def _row_numbers(job: Job, status: str) -> list[int]:
    rows = JobRow.objects.filter(job=job, status=status).order_by("row_number")
    return list(rows.values_list("row_number", flat=True))


def job_restart(
    *, job: Job, acting_user: User, confirm_duplicates: bool = False, void_first: bool = False
) -> Job:
    """Cancel ``job`` and ship all of its rows again as a new, approved job; return it.

    Rows that already shipped are voided first when ``void_first``; otherwise the
    operator must confirm the duplicates. The new job is read from the source
    before anything is voided or cancelled, so a source that cannot be read
    changes nothing. The old job is cancelled only if, locked, it is still
    stopped with the shipped rows the warning named; otherwise, or if a void
    fails, the new job is cancelled and the rows voided here are pending again.
    """
    require_approve_permission(acting_user)
    job_restart_check(job)
    warning = job_restart_warning(job)
    if warning and not (confirm_duplicates or void_first):
        raise DomainError("restart_needs_confirmation", warning)
    confirmed = _shipped_row_ids(job)  # what the warning (and so the confirmation) covers
    hold = restart_hold(job=job, actor=acting_user, statuses=RESUMABLE)
    if hold is None:  # resumed or cancelled since it was checked
        job_restart_check(Job.objects.get(pk=job.pk))
        raise DomainError("restart_stale", f"{job} changed meanwhile: look at it again.")
    try:
        job_restart_check(Job.objects.get(pk=job.pk))  # no row became unknown before the hold
        new_job = _restarted(job, hold, acting_user, confirmed=confirmed, void_first=void_first)
    finally:
        restart_release(hold, acting_user)  # nothing if the restart cancelled the old job
    job_write_back_stopped(job=job, actor=acting_user)
    job.refresh_from_db()
    new_job.refresh_from_db()
    return new_job


def _restarted(
    job: Job, hold: Lease, acting_user: User, *, confirmed: set[int], void_first: bool
) -> Job:
    """Make the new job, void (if asked), cancel ``job`` and approve the new one; return it."""
    keys = set(
        JobRow.objects.filter(job=job)
        .exclude(status=RowStatus.SKIPPED)
        .values_list("source_key", flat=True)
    )
    new_job = job_create(
        source=job.data_source,
        actor=acting_user,
        mode=job.mode,
        include_already_shipped=True,
        only_keys=keys,
        held_for=acting_user,  # nobody approves, previews or cancels it but this restart
    )
    new_hold = Lease(job_id=new_job.pk, token=new_job.fencing_token, owner=new_job.lease_owner)
    held = HeldJobs(job=job, hold=hold, stopped=RESUMABLE, new_job=new_job, new_hold=new_hold)
    voided: list[JobRow] = []
    try:
        job_copy_preview(job=new_job, previewed=job, actor=acting_user)
        if lost := held.lost():
            raise DomainError(
                "restart_stale",
                f"The restart of {job} stopped after reading the source: {lost}. The restart "
                "took longer than its hold on the jobs, and someone acted on them meanwhile. "
                f"{job} was not cancelled; look at it again and choose again.",
            )
        if void_first:
            voided = job_void_shipped(
                job=job, actor=acting_user, hold_lost=held.lost, row_ids=confirmed
            )
        with transaction.atomic():
            locked = Job.objects.select_for_update().get(pk=job.pk)
            _refuse_if_changed(locked, hold, expected=confirmed - {row.pk for row in voided})
            job_cancel_records(
                job=locked, actor=acting_user, reason=f"Restarted as {new_job}.", hold=hold
            )
            Job.objects.filter(pk=new_job.pk).update(session_hash=locked.session_hash)
            if new_job.invalid_count == 0:
                job_approve(
                    job=new_job, acting_user=acting_user, previewed_as=locked, hold=new_hold
                )
    except DomainError as error:
        if not voided:
            voided = list(JobRow.objects.filter(pk__in=error.details.get("voided_rows", [])))
        raise _restart_stopped(
            job=job, new_job=new_job, hold=new_hold, voided=voided, actor=acting_user, error=error
        ) from error
    finally:
        lease_release(new_hold)  # a new job left a draft (rows with errors): free to act on
    return new_job


def _shipped_row_ids(job: Job) -> set[int]:
    return set(
        JobRow.objects.filter(job=job, status=RowStatus.SHIPPED).values_list("pk", flat=True)
    )


def _refuse_if_changed(locked: Job, hold: Lease, *, expected: set[int]) -> None:
    """Refuse a restart of a job resumed (or shipping) since the operator confirmed it.

    Resume is refused while the restart holds the job; a hold that lapsed (a
    restart slower than SHIPOPS_LEASE_SECONDS between two steps) lets it in.
    """
    unchanged = locked.fencing_token == hold.token and _shipped_row_ids(locked) == expected
    if locked.status in RESUMABLE and unchanged:
        return
    raise DomainError(
        "restart_stale",
        f"{locked} changed while it was being restarted: it is "
        f"{locked.get_status_display().lower()} now, with {locked.shipped_count} shipped "
        "row(s), maybe resumed by someone else. It was not cancelled; look at it again "
        "and choose again.",
    )


def _restart_stopped(
    *,
    job: Job,
    new_job: Job,
    hold: Lease,
    voided: list[JobRow],
    actor: User,
    error: DomainError,
) -> DomainError:
    """Undo a restart that stopped: cancel its new job, make the rows it voided pending again.

    A new job someone else took once its hold lapsed is left alone: cancelled
    already, or approved, and then it ships those orders (voided rows included).
    """
    new_status = _status_of(new_job)
    approved_elsewhere = new_status not in (*NOT_APPROVED, JobStatus.CANCELLED)
    if new_status in NOT_APPROVED:
        job_cancel(job=new_job, actor=actor, reason=f"Restart stopped: {error.message}", hold=hold)
    if approved_elsewhere:
        message = (
            f"{error.message} {new_job} was approved by someone else meanwhile and ships "
            f"these orders, so it was left as it is: cancel {job} rather than resume it."
        )
    else:
        message = f"{error.message} {new_job} was cancelled"
        message += (
            f"; once that is done, restart {job} again." if error.code == OTHER_JOB_FIRST else "."
        )
    if not voided:
        return DomainError(error.code, message, details={**error.details, "restored_rows": []})
    numbers = number_ranges(sorted(row.row_number for row in voided))
    status = _status_of(job)
    if approved_elsewhere:
        message += f" UPS voided the shipments of row(s) {numbers}; {new_job} ships them again."
        return DomainError(error.code, message, details={**error.details, "restored_rows": []})
    if status not in RESUMABLE:
        # Resumed meanwhile: its worker has passed these rows, and a finished job never
        # resumes. Pending rows there would never ship; voided, they say what happened.
        message += (
            f" UPS voided the shipments of row(s) {numbers}, and {job} is "
            f"{JobStatus(status).label.lower()} now, so they stay voided: ship those orders "
            f"with a new job once {job} has finished (it takes them, although the source "
            "still shows their voided tracking numbers)."
        )
        return DomainError(error.code, message, details={**error.details, "restored_rows": []})
    for row in voided:
        row_restore_voided(row=row, actor=actor)
    message += (
        f" UPS voided the shipments of row(s) {numbers}; they are pending on {job} again, "
        "so Resume ships them again (writing their new tracking numbers over the voided "
        "ones in the source)."
    )
    return DomainError(
        error.code,
        message,
        details={**error.details, "restored_rows": [row.row_number for row in voided]},
    )


def _status_of(job: Job) -> str:
    return str(Job.objects.filter(pk=job.pk).values_list("status", flat=True).get())


def row_restore_voided(*, row: JobRow, actor: Actor) -> JobRow:
    """Make a row whose shipment a stopped restart voided pending again, for resume to ship."""
    voided_tracking, cost = row.tracking_number, row.actual_cost_cents or 0
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
        Job.objects.filter(pk=row.job_id).update(actual_cost_cents=F("actual_cost_cents") - cost)
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
