"""Restart a stopped job: cancel it and ship all of its rows again as a new job."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from django.contrib.auth.models import User
from django.db import transaction

from jobs.models import Job, JobRow
from jobs.queue import enqueue_execution
from jobs.services.approval import job_approve, require_approve_permission
from jobs.services.cancel import job_cancel_records, job_void_shipped
from jobs.services.creation import job_create
from jobs.services.estimate import job_copy_preview
from jobs.services.lease import Lease, lease_release
from jobs.services.restart_holds import HeldJobs, restart_hold, restart_release
from jobs.services.restart_undo import restart_undo
from jobs.services.resume import RESUMABLE
from jobs.services.writeback import job_write_back_stopped
from jobs.states import RowStatus
from jobs.summaries import number_ranges, rows_numbered
from shipops.errors import DomainError

logger = logging.getLogger(__name__)


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
        f"{rows_numbered(numbers).capitalize()} {'has' if len(numbers) == 1 else 'have'} an "
        "unknown outcome: UPS may already have shipped it, and a restart would ship it again. "
        "Resume first (it looks such rows up at UPS by reference), or decide them on the job "
        "page; then restart.",
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
    *,
    job: Job,
    acting_user: User,
    confirm_duplicates: bool = False,
    void_first: bool = False,
    seen_token: int | None = None,
) -> Job:
    """Cancel ``job`` and ship all of its rows again as a new, approved job; return it.

    Rows that already shipped are voided first when ``void_first``; otherwise the
    operator must confirm the duplicates. The new job is read from the source
    before anything is voided or cancelled, so a source that cannot be read
    changes nothing. The old job is cancelled only if, locked, it is still
    stopped with the shipped rows the warning named; otherwise, or if a void
    fails, the new job is cancelled and the rows voided here are pending again.
    ``seen_token``: the job's ``fencing_token`` when the person was shown the
    warning; a job that ran since (a resume shipped rows it did not name) is
    refused as stale.
    """
    require_approve_permission(acting_user)
    job_restart_check(job)
    warning = job_restart_warning(job)
    if warning and not (confirm_duplicates or void_first):
        raise DomainError("restart_needs_confirmation", warning)
    confirmed = _shipped_row_ids(job)  # what the warning (and so the confirmation) covers
    hold = restart_hold(job=job, actor=acting_user, statuses=RESUMABLE, expected_token=seen_token)
    if hold is None:  # resumed or cancelled since it was checked (or shown)
        job_restart_check(Job.objects.get(pk=job.pk))
        raise DomainError("restart_stale", f"{job} changed meanwhile: look at it again.")
    try:
        job_restart_check(Job.objects.get(pk=job.pk))  # no row became unknown before the hold
        new_job = _restarted(job, hold, acting_user, confirmed=confirmed, void_first=void_first)
    finally:
        with _logged_failure("release its hold on", job):  # nothing if it cancelled the job
            restart_release(hold, acting_user)
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
        only_keys_are=f"the orders of {job}, which it restarts",
        held_for=acting_user,  # nobody approves, previews or cancels it but this restart
    )
    new_hold = Lease(job_id=new_job.pk, token=new_job.fencing_token, owner=new_job.lease_owner)
    held = HeldJobs(job=job, hold=hold, stopped=RESUMABLE, new_job=new_job, new_hold=new_hold)
    voided: list[JobRow] = []
    committed, token = False, None
    try:
        job_copy_preview(job=new_job, previewed=job, actor=acting_user)
        if lost := held.lost():
            raise _taken_meanwhile(job, lost, "after reading the source")
        if void_first:
            voided = job_void_shipped(
                job=job, actor=acting_user, hold_lost=held.lost, row_ids=confirmed
            )
        with transaction.atomic():
            locked = Job.objects.select_for_update().get(pk=job.pk)
            if lost := held.lost():  # a colleague, during the last void
                raise _taken_meanwhile(job, lost, "before cancelling it")
            _refuse_if_changed(locked, hold, expected=confirmed - {row.pk for row in voided})
            job_cancel_records(
                job=locked, actor=acting_user, reason=f"Restarted as {new_job}.", hold=hold
            )
            Job.objects.filter(pk=new_job.pk).update(session_hash=locked.session_hash)
            if new_job.invalid_count == 0:
                token = _approve_restarted(new_job, locked, new_hold, acting_user)
        committed = True
        if token is not None:
            enqueue_execution(new_job.pk, token, actor=acting_user)
    except BaseException as error:
        if committed:  # the restart is done; queueing the new job's task failed: no undo
            with suppress(Exception):
                job_write_back_stopped(job=job, actor=acting_user)
            raise
        stopped = error if isinstance(error, DomainError) else _unexpected(error)
        try:
            undone = restart_undo(held, confirmed=confirmed, actor=acting_user, error=stopped)
        except Exception:
            # The database failed this too: the error that stopped the restart goes on.
            logger.exception("Could not undo the stopped restart of %s.", job)
            raise error from None
        if isinstance(error, DomainError):
            raise undone from error
        logger.error("The restart of %s stopped: %s", job, undone.message)
        raise  # Ctrl-C, a database failure: what was undone is in the audit trail and the log
    finally:
        with _logged_failure("release its hold on", new_job):  # a draft with invalid rows
            lease_release(new_hold)
    return new_job


@contextmanager
def _logged_failure(what: str, job: Job) -> Iterator[None]:
    """Log a failure to ``what`` ``job`` instead of raising it over the restart's own outcome.

    A hold left behind (the database failing too) lapses after SHIPOPS_LEASE_SECONDS.
    """
    try:
        yield
    except Exception:
        logger.exception("The restart could not %s %s.", what, job)


def _approve_restarted(job: Job, of: Job, hold: Lease, user: User) -> int:
    """Approve the restart's new job (its hold lets this restart only); the caller queues it."""
    return job_approve(job=job, acting_user=user, previewed_as=of, hold=hold, in_background=False)


def _taken_meanwhile(job: Job, lost: str, when: str) -> DomainError:
    return DomainError(
        "restart_stale",
        f"The restart of {job} stopped {when}: {lost}. The restart took longer than its hold "
        "on the jobs, and someone acted on them meanwhile. This restart left "
        f"{job} as it is; look at the jobs again and choose again.",
    )


def _unexpected(error: BaseException) -> DomainError:
    return DomainError(
        "restart_interrupted",
        f"The restart stopped on an unexpected error ({type(error).__name__}).",
    )


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
        "row(s), maybe resumed by someone else. The restart left it as it is; look at it "
        "again and choose again.",
    )
