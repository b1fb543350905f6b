"""Exclude rows, approve a job, and switch a session's mode."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count, F, Q, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from datasources.adapters import get_adapter
from datasources.models import DataSource
from datasources.places import same_place_source_ids
from jobs.actors import Actor
from jobs.models import Job, JobRow
from jobs.permissions import APPROVE_PERMISSION, REFUSALS
from jobs.queue import enqueue_execution
from jobs.services.audit import audit_record
from jobs.services.creation import session_hash
from jobs.services.estimate import job_rows_left_out
from jobs.services.lease import Lease, lease_hand_over
from jobs.services.overlap import (
    job_overlap,
    refuse_rows_in_another_job,
    skip_rows_shipped_elsewhere,
)
from jobs.services.restart_holds import refuse_while_restarting
from jobs.services.transitions import job_transition, rows_transition_bulk, status_refusal
from jobs.states import JobMode, JobStatus, RowStatus, job_statuses_leading_to
from shipops.errors import DomainError
from shipops.words import counted

# While a job started in a session is in one of these, that session's mode is locked.
MODE_LOCKING_STATUSES = [JobStatus.APPROVED, JobStatus.RUNNING]


APPROVABLE = job_statuses_leading_to(JobStatus.APPROVED)
# Rows are left out of a batch before it is approved, and not while its preview runs.
EXCLUDABLE = frozenset({JobStatus.DRAFT, JobStatus.PREVIEWED})


def job_exclude_rows(*, job: Job, actor: Actor, row_ids: list[int] | None = None) -> int:
    """Skip the given pending rows (by default every row with errors); return how many.

    Rows with errors that are skipped no longer count as the job's rows with
    errors (``invalid_count``): nothing is left to fix in them for this job.
    """
    rows = JobRow.objects.filter(job=job, status=RowStatus.PENDING)
    rows = rows.filter(pk__in=row_ids) if row_ids is not None else rows.filter(is_valid=False)
    with transaction.atomic():
        locked = Job.objects.select_for_update().get(pk=job.pk)
        refuse_while_restarting(locked)
        only = "rows can be excluded only from a draft or previewed job, before approval."
        if refusal := status_refusal(locked, EXCLUDABLE, code="not_excludable", only=only):
            raise refusal
        invalid = rows.filter(is_valid=False).count()
        if row_ids is None and not invalid:
            raise DomainError("nothing_to_exclude", f"{locked} has no rows with errors to exclude.")
        moved = rows_transition_bulk(
            rows=rows,
            to_status=RowStatus.SKIPPED,
            actor=actor,
            action="row_excluded",
            message="Excluded from the batch.",
        )
        job_rows_left_out(job, moved)
        Job.objects.filter(pk=job.pk).update(
            invalid_count=Greatest(F("invalid_count") - invalid, Value(0))
        )
        audit_record(
            actor=actor,
            action="rows_excluded",
            job=job,
            message=f"Excluded {counted(moved, 'row')} from job {job.pk}.",
            data={"rows": moved},
        )
    job.refresh_from_db()
    return moved


APPROVE_REFUSAL = REFUSALS[APPROVE_PERMISSION]


def require_approve_permission(user: User) -> None:
    """Raise DomainError ``permission_denied`` unless ``user`` may approve (and so ship)."""
    if not user.has_perm(APPROVE_PERMISSION):
        raise DomainError("permission_denied", APPROVE_REFUSAL)


@dataclass(frozen=True)
class PendingRows:
    """A job's rows still to ship, and how many of them have errors."""

    count: int
    invalid: int


def pending_rows_by_job(jobs: Iterable[Job]) -> dict[int, PendingRows]:
    """Count the pending rows of each of ``jobs`` in one query (a job with none is absent)."""
    counted = (
        JobRow.objects.filter(job__in=list(jobs), status=RowStatus.PENDING)
        .values("job_id")
        .annotate(count=Count("pk"), invalid=Count("pk", filter=Q(is_valid=False)))
    )
    return {line["job_id"]: PendingRows(line["count"], line["invalid"]) for line in counted}


def job_approve_refusal(
    job: Job,
    *,
    previewed_as: Job | None = None,
    hold: Lease | None = None,
    pending: PendingRows | None = None,
) -> DomainError | None:
    """Return why ``job`` cannot be approved now, or None; ``job_approve`` refuses with it.

    ``pending``: its rows as ``pending_rows_by_job`` counted them, else counted
    here. ``job_approve`` also refuses a source that can no longer take tracking
    numbers, and rows that another job may ship: those are checked only there.
    """
    return _status_refusal(job, previewed_as=previewed_as, hold=hold) or _rows_refusal(
        job, pending or _pending_rows(job)
    )


def _status_refusal(
    job: Job, *, previewed_as: Job | None, hold: Lease | None
) -> DomainError | None:
    try:
        refuse_while_restarting(job, hold=hold)
    except DomainError as error:
        return error
    only = "only previewed jobs (and drafts in auto mode) can be approved."
    if refusal := status_refusal(
        job, APPROVABLE, code="illegal_transition", only=only, to=JobStatus.APPROVED
    ):
        return refusal
    if job.status == JobStatus.DRAFT and job.mode != JobMode.AUTO and not previewed_as:
        return DomainError(
            "preview_first", f"{job} has not been previewed: preview it before approving."
        )
    return None


def _pending_rows(job: Job) -> PendingRows:
    return pending_rows_by_job([job]).get(job.pk, PendingRows(0, 0))


def _rows_refusal(job: Job, pending: PendingRows) -> DomainError | None:
    if count := pending.invalid:
        return DomainError(
            "invalid_rows",
            f"{job} has {count} row{'' if count == 1 else 's'} with errors: exclude or fix "
            f"{'it' if count == 1 else 'them'} before approving.",
            details={"rows": count},
        )
    if not pending.count:
        return DomainError(
            "nothing_left_to_ship",
            f"{job} has no rows left to ship (every row was excluded or skipped): "
            "there is nothing to approve; cancel it.",
        )
    return None


def _raise(refusal: DomainError | None) -> None:
    if refusal is not None:
        raise refusal


def job_approve(
    *,
    job: Job,
    acting_user: User,
    switch_to_auto: bool = False,
    previewed_as: Job | None = None,
    in_background: bool = True,
    hold: Lease | None = None,
) -> int:
    """Approve ``job`` for shipping and queue its execution; needs jobs.approve_job.

    ``previewed_as`` names the job a restart copies: its rows were previewed there,
    and ``hold`` is that restart's hold on ``job`` (nobody else approves it meanwhile).
    Returns the token the executor must present; with ``in_background`` a task
    is queued with it, otherwise the caller runs ``job_execute`` itself. Refused
    (SourceError) if tracking numbers could no longer be written back to the
    source (a column dropped, a file made read-only since the job was created).
    """
    require_approve_permission(acting_user)
    adapter = get_adapter(job.data_source)
    adapter.check_write_back()
    with transaction.atomic():
        locked = Job.objects.select_for_update().get(pk=job.pk)
        _raise(_status_refusal(locked, previewed_as=previewed_as, hold=hold))
        # One job at a time per order: approvals of the sources reading these rows are
        # serialised here, their locks taken in one order. (no_key: creating a job of a
        # source, which only needs the key, may go on.)
        same_place = same_place_source_ids(locked.data_source)
        list(
            DataSource.objects.select_for_update(no_key=True)
            .filter(pk__in=same_place)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        overlap = job_overlap(locked, adapter, sources=same_place)
        refuse_rows_in_another_job(locked, overlap)
        skip_rows_shipped_elsewhere(locked, overlap, acting_user)
        _raise(_rows_refusal(locked, _pending_rows(locked)))
        job_transition(
            job=locked,
            to_status=JobStatus.APPROVED,
            actor=acting_user,
            action="job_approved",
            message=f"Approved by {acting_user.get_username()}"
            + (" (and switched to auto mode)." if switch_to_auto else "."),
            changes={"approved_by": acting_user, "approved_at": timezone.now()},
            data={
                "switch_to_auto": switch_to_auto,
                "restart_of": previewed_as.pk if previewed_as else None,
            },
        )
        token = lease_hand_over(job=locked, actor=acting_user)
        if in_background:
            enqueue_execution(locked.pk, token, actor=acting_user)
    job.refresh_from_db()
    return token


def mode_locking_job(session_key: str | None) -> Job | None:
    """Return the job that keeps a session's mode from changing: approved or running, if any."""
    key = session_hash(session_key)
    if not key:
        return None
    locking = Job.objects.filter(session_hash=key, status__in=MODE_LOCKING_STATUSES)
    return locking.only("pk", "status").first()


def mode_locked_message(job: Job) -> str:
    """Say why the mode cannot change now, naming the job that locks it."""
    return (
        f"The mode cannot change while {job} (started in this session) is "
        f"{job.get_status_display().lower()}: wait until it finishes or cancel it."
    )


def session_mode_switch(*, session_key: str | None, to_mode: str, actor: Actor) -> None:
    """Check that a session may switch to ``to_mode`` and record the switch.

    Refused while a job started in that session is approved or running.
    """
    if to_mode not in JobMode.values:
        raise DomainError("bad_mode", f"The mode must be confirm or auto, not {to_mode!r}.")
    busy = mode_locking_job(session_key)
    if busy is not None:
        raise DomainError("mode_locked", mode_locked_message(busy), details={"job": busy.pk})
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="mode_switched",
            message=f"Switched the session to {to_mode} mode.",
            data={"mode": to_mode},
        )
