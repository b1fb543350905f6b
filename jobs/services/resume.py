"""Resume a stopped job where it stopped, or restart it as a new job."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from jobs.actors import Actor
from jobs.models import Job, JobRow
from jobs.queue import enqueue_execution
from jobs.services.approval import job_approve, require_approve_permission
from jobs.services.cancel import job_cancel, job_void_shipped
from jobs.services.creation import job_create
from jobs.services.lease import lease_hand_over
from jobs.services.reconcile import job_reconcile_unknown
from jobs.services.transitions import job_transition, rows_transition_bulk
from jobs.states import JobStatus, RowStatus
from shipops.errors import DomainError
from ups.errors import UpsError

RESUMABLE = {JobStatus.INTERRUPTED, JobStatus.FAILED}


def job_resume(*, job: Job, actor: Actor, in_background: bool = True) -> int:
    """Reconcile unknown rows, then continue from the first pending row; return the token."""
    if job.status not in RESUMABLE:
        raise DomainError(
            "not_resumable",
            f"{job} is {job.get_status_display().lower()}; only interrupted "
            "or failed jobs can be resumed.",
        )
    try:
        undecided = job_reconcile_unknown(job=job, actor=actor)
    except UpsError as error:
        raise DomainError(
            "reconcile_failed",
            f"Could not look up unknown rows at UPS: {error.message} "
            "Nothing was shipped; try again later.",
        ) from error
    if undecided:
        numbers = ", ".join(str(row.row_number) for row in undecided[:10])
        raise DomainError(
            "needs_decision",
            f"UPS has no shipment for row(s) {numbers} under their references. Decide for each "
            f"whether it shipped (enter its tracking number) or not, then resume.",
            details={"rows": [row.pk for row in undecided]},
        )
    with transaction.atomic():
        locked = Job.objects.select_for_update().get(pk=job.pk)
        failed = JobRow.objects.filter(job=locked, status=RowStatus.FAILED)
        retried = rows_transition_bulk(
            rows=failed,
            to_status=RowStatus.PENDING,
            actor=actor,
            action="row_retry",
            message="Resume retries this row.",
        )
        job_transition(
            job=locked,
            to_status=JobStatus.RUNNING,
            actor=actor,
            action="job_resumed",
            message="Resumed" + (f"; {retried} failed row(s) will be retried." if retried else "."),
            changes={
                "resume_count": locked.resume_count + 1,
                "failed_count": max(0, locked.failed_count - retried),
                "last_error_code": "",
                "last_error_message": "",
                "last_error_row": None,
            },
        )
        token = lease_hand_over(job=locked, actor=actor)
        if in_background:
            enqueue_execution(locked.pk, token)
    job.refresh_from_db()
    return token


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


def number_ranges(numbers: list[int]) -> str:
    """Return sorted row numbers as ``1-3, 5, 7-9``."""
    spans: list[list[int]] = []
    for number in numbers:
        if spans and number == spans[-1][1] + 1:
            spans[-1][1] = number
        else:
            spans.append([number, number])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


def job_restart(
    *, job: Job, acting_user: User, confirm_duplicates: bool = False, void_first: bool = False
) -> Job:
    """Cancel ``job`` and ship all of its rows again as a new, approved job; return it.

    Rows that already shipped are voided first when ``void_first``; otherwise the
    operator must confirm the duplicates. The new job is read from the source
    before anything is voided or cancelled, so a source that cannot be read
    changes nothing.
    """
    require_approve_permission(acting_user)
    job_restart_check(job)
    warning = job_restart_warning(job)
    if warning and not (confirm_duplicates or void_first):
        raise DomainError("restart_needs_confirmation", warning)
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
    )
    if void_first:
        try:
            job_void_shipped(job=job, actor=acting_user)
        except DomainError as error:
            job_cancel(job=new_job, actor=acting_user, reason=f"Restart stopped: {error.message}")
            raise
    with transaction.atomic():
        job_cancel(job=job, actor=acting_user, reason=f"Restarted as {new_job}.")
        Job.objects.filter(pk=new_job.pk).update(session_hash=job.session_hash)
        if new_job.invalid_count == 0:
            job_approve(job=new_job, acting_user=acting_user, previewed_as=job)
    new_job.refresh_from_db()
    return new_job
